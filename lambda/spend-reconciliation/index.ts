import { createHandlerTools, instrumentedHandler, type HandlerTools } from '../../runtime/powertools';
import { cloudWatchSdk } from '../shared/aws-sdk';
import { lazy } from '../shared/lazy';
import { reconcileSpend } from './reconcile';

const cloudwatch = lazy(async () => new (cloudWatchSdk().CloudWatchClient)({}));

/** The handler over `tools` (tests pass their own clock). */
export function createHandler(tools: HandlerTools = createHandlerTools()) {
  return instrumentedHandler(tools, (_event: unknown) => reconcileSpend({ ...tools, cloudwatch }));
}

/** Hourly: OpenAI's month-to-date project cost as ActualSpendUsd, and its drift from the gateway's metered spend. */
export const handler = createHandler();
