import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { cloudWatchSdk } from '../shared/aws-sdk';
import { Dimension, GatewayMetric, METRIC_NAMESPACE } from '../../runtime/metric-names';

/** How far back to look for the gateway's gauge: it is emitted every flush while the gateway runs. */
export const METERED_LOOKBACK_HOURS = 6;
const PERIOD_SECONDS = 300;

export interface MeteredSpend {
  readonly usd: number;
  /** When the datapoint was recorded. */
  readonly at: Date;
}

/**
 * The gateway's latest month-to-date metered spend for `stage`: `MonthToDateSpendUsd`, Maximum per
 * 5 minutes over the last hours (every replica reports the same stage-wide total), never before
 * `monthStart` so last month's total cannot be read as this month's.
 * @returns undefined when the gateway has reported nothing in that window
 */
export async function readMeteredSpend(
  cloudwatch: CloudWatchClient,
  stage: string,
  monthStart: Date,
  now: Date,
): Promise<MeteredSpend | undefined> {
  const lookback = new Date(now.getTime() - METERED_LOOKBACK_HOURS * 3600_000);
  const start = lookback > monthStart ? lookback : monthStart;
  const { GetMetricDataCommand } = cloudWatchSdk();
  const out = await cloudwatch.send(
    new GetMetricDataCommand({
      StartTime: start,
      EndTime: now,
      ScanBy: 'TimestampDescending',
      MetricDataQueries: [
        {
          Id: 'metered',
          ReturnData: true,
          MetricStat: {
            Metric: {
              Namespace: METRIC_NAMESPACE,
              MetricName: GatewayMetric.monthToDateSpendUsd,
              Dimensions: [{ Name: Dimension.stage, Value: stage }],
            },
            Period: PERIOD_SECONDS,
            Stat: 'Maximum',
          },
        },
      ],
    }),
  );
  const series = out.MetricDataResults?.find((r) => r.Id === 'metered');
  const values = series?.Values ?? [];
  const timestamps = series?.Timestamps ?? [];
  if (values.length === 0 || timestamps.length === 0) return undefined;
  // Ask for descending order, but do not rely on it.
  let latest = 0;
  for (let i = 1; i < timestamps.length; i++) {
    if (timestamps[i].getTime() > timestamps[latest].getTime()) latest = i;
  }
  return { usd: values[latest], at: timestamps[latest] };
}
