import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Dimension, METRIC_NAMESPACE } from '../../../runtime/metric-names';

/** The period of most alarms and graphs. */
export const FIVE_MINUTES = Duration.minutes(5);
export const ONE_MINUTE = Duration.minutes(1);

/** The project's own metrics (gateway EMF and the handlers') of one stage, in `METRIC_NAMESPACE`. */
export class ProjectMetricFactory {
  /** @param stage the `Stage` dimension */
  constructor(private readonly stage: string) {}

  /** A project metric on the stage-wide `[Stage]` dimension set. */
  stageMetric(metricName: string, statistic: string, period: Duration = FIVE_MINUTES): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: METRIC_NAMESPACE,
      metricName,
      dimensionsMap: { [Dimension.stage]: this.stage },
      statistic,
      period,
    });
  }

  /** A gateway metric on the `[Stage, Client]` dimension set. */
  clientMetric(metricName: string, clientId: string, statistic: string): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: METRIC_NAMESPACE,
      metricName,
      dimensionsMap: { [Dimension.stage]: this.stage, [Dimension.client]: clientId },
      statistic,
      period: FIVE_MINUTES,
    });
  }
}

/**
 * One line that combines `metrics` with a CloudWatch function over the list of them (`SUM` of the
 * evictions of every cache node, `MAX` of their memory), over five minutes.
 */
export function combined(
  fn: 'SUM' | 'MAX',
  metrics: Readonly<Record<string, cloudwatch.IMetric>>,
  label: string,
): cloudwatch.MathExpression {
  return new cloudwatch.MathExpression({
    expression: `${fn}([${Object.keys(metrics).join(', ')}])`,
    usingMetrics: { ...metrics },
    label,
    period: FIVE_MINUTES,
  });
}
