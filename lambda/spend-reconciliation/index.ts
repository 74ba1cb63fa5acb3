import type { Context } from 'aws-lambda';
import {
  createHandlerLogger,
  createHandlerMetrics,
  handlerStage,
  flushMetrics,
} from '../../runtime/powertools';
import { cloudWatchSdk } from '../shared/aws-sdk';
import { lazy } from '../shared/lazy';
import { reconcileSpend, type ReconciliationResult } from './reconcile';

const stage = handlerStage();
const logger = createHandlerLogger(stage);
const metrics = createHandlerMetrics(stage);
const cloudwatch = lazy(async () => new (cloudWatchSdk().CloudWatchClient)({}));

/** Hourly: OpenAI's month-to-date project cost as ActualSpendUsd, and its drift from the gateway's metered spend. */
export const handler = async (_event: unknown, context?: Context): Promise<ReconciliationResult> => {
  if (context) logger.addContext(context);
  try {
    return await reconcileSpend({ logger, metrics, cloudwatch, stage });
  } finally {
    flushMetrics(metrics);
  }
};
