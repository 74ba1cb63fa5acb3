import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type { AlarmSpec } from '../alarm-factory';
import type { ProjectMetricFactory } from '../metric-factory';
import type { AlarmThresholds } from '../thresholds';

/** What every monitoring module is built from. */
export interface MonitoringContext {
  readonly thresholds: AlarmThresholds;
  readonly metrics: ProjectMetricFactory;
}

/** One resource's monitoring: the table of its alarms and its row of the dashboard. */
export interface Monitoring {
  readonly alarms: readonly AlarmSpec[];
  readonly row: readonly cloudwatch.IWidget[];
}

/** A graph of the dashboard, a third of its width. */
export function graph(
  title: string,
  left: cloudwatch.IMetric[],
  right: cloudwatch.IMetric[] = [],
): cloudwatch.GraphWidget {
  return new cloudwatch.GraphWidget({ title, left, right, width: 8, height: 6 });
}
