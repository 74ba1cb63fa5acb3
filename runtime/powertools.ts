import type { Context } from 'aws-lambda';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Dimension, METRIC_NAMESPACE } from './metric-names';
import { HandlerEnv } from './handler-env';
import { systemClock, type Clock } from './clock';

/** The stage the handler runs for, the `Stage` dimension and a persistent log key. @default 'local' */
export function handlerStage(): string {
  return process.env[HandlerEnv.stage] || 'local';
}

/**
 * A Powertools Logger with the stage as a persistent key. The service name comes from
 * `POWERTOOLS_SERVICE_NAME`, which the infrastructure sets per function.
 */
export function createHandlerLogger(stage: string = handlerStage()): Logger {
  return new Logger({ persistentKeys: { stage } });
}

/**
 * Powertools Metrics (EMF) in the project's namespace with `Stage` as the only dimension: Powertools
 * adds a `service` dimension by default, which the dashboards and alarms do not query, so it is removed.
 */
export function createHandlerMetrics(stage: string = handlerStage()): Metrics {
  const metrics = new Metrics({ namespace: METRIC_NAMESPACE });
  metrics.clearDefaultDimensions();
  metrics.setDefaultDimensions({ [Dimension.stage]: stage });
  return metrics;
}

/**
 * Writes the stored metrics as one EMF document. A step with nothing to report (most rotation steps, a
 * poll with no jobs) writes nothing, instead of Powertools' "No application metrics to publish" warning.
 */
export function flushMetrics(metrics: Metrics): void {
  if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
}

/** What every handler is given: its stage, a Logger and Metrics set up as above, and the wall clock. */
export interface HandlerTools {
  readonly stage: string;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Decides every month, window and record time the handler uses (tests pin it). */
  readonly clock: Clock;
}

/** Creates the tools once per Lambda instance (at module load). */
export function createHandlerTools(stage: string = handlerStage(), clock: Clock = systemClock): HandlerTools {
  return { stage, logger: createHandlerLogger(stage), metrics: createHandlerMetrics(stage), clock };
}

/**
 * Turns a handler body into a Lambda handler: adds the invocation context to every log line, and
 * publishes the metrics the body stored even when it throws.
 */
export function instrumentedHandler<E, R>(
  tools: HandlerTools,
  body: (event: E) => Promise<R>,
): (event: E, context?: Context) => Promise<R> {
  return async (event, context) => {
    if (context) tools.logger.addContext(context);
    try {
      return await body(event);
    } finally {
      flushMetrics(tools.metrics);
    }
  };
}
