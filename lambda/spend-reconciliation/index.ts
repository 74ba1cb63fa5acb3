import { createHandlerTools, instrumentedHandler } from '../../runtime/powertools';
import { cloudWatchSdk } from '../shared/aws-sdk';
import { lazy } from '../shared/lazy';
import { reconcileSpend } from './reconcile';

const tools = createHandlerTools();
const cloudwatch = lazy(async () => new (cloudWatchSdk().CloudWatchClient)({}));

/** Hourly: OpenAI's month-to-date project cost as ActualSpendUsd, and its drift from the gateway's metered spend. */
export const handler = instrumentedHandler(tools, (_event: unknown) =>
  reconcileSpend({ ...tools, cloudwatch }),
);
