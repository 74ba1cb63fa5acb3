import type { Context } from 'aws-lambda';
import { createHandlerLogger, createHandlerMetrics, flushMetrics } from '../../runtime/powertools';
import { runCanary, type CanaryResult } from './canary';

const logger = createHandlerLogger();
const metrics = createHandlerMetrics();

/** Scheduled canary: one tiny streaming chat completion, published as CanarySuccess/Latency/TimeToFirstToken. */
export const handler = async (_event: unknown, context?: Context): Promise<CanaryResult> => {
  if (context) logger.addContext(context);
  try {
    return await runCanary({ logger, metrics });
  } finally {
    flushMetrics(metrics);
  }
};
