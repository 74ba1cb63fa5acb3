import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Dimension, METRIC_NAMESPACE } from './metric-names';
import { HandlerEnv } from './handler-env';

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
