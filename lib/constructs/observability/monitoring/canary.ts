import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { CanaryMetric } from '../../../../runtime/metric-names';
import { FIVE_MINUTES, ONE_MINUTE } from '../metric-factory';
import { graph, Monitoring, MonitoringContext } from './monitoring';

/** The canary's once-a-minute calls to OpenAI: success (a silent canary counts as failing) and time to first token. */
export function canaryMonitoring({ thresholds: t, metrics }: MonitoringContext): Monitoring {
  return {
    alarms: [
      {
        id: 'CanaryFailure',
        metric: metrics.stageMetric(CanaryMetric.success, 'Minimum', ONE_MINUTE),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        evaluationPeriods: 5,
        datapointsToAlarm: t.canaryFailedMinutesOf5,
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
        what: `The canary failed or did not report in ${t.canaryFailedMinutesOf5} of the last 5 minutes.`,
        why: "A real call to OpenAI from this region with this stage's key is failing: callers are probably failing too.",
        runbook: 'canary-failure',
      },
      {
        id: 'CanaryTimeToFirstToken',
        metric: metrics.stageMetric(CanaryMetric.timeToFirstToken, 'p90', FIVE_MINUTES),
        threshold: t.canaryTimeToFirstTokenMs,
        evaluationPeriods: 3,
        datapointsToAlarm: 2,
        what: `The canary's time to first token is above ${t.canaryTimeToFirstTokenMs} ms.`,
        why: 'OpenAI is slow from this region even for a tiny request, independent of gateway load.',
        runbook: 'canary-time-to-first-token',
      },
      {
        id: 'CanaryResponsesTimeToFirstToken',
        metric: metrics.stageMetric(CanaryMetric.responsesTimeToFirstToken, 'p90', FIVE_MINUTES),
        threshold: t.canaryResponsesTimeToFirstTokenMs,
        evaluationPeriods: 3,
        datapointsToAlarm: 2,
        what: `The canary's Responses time to first token is above ${t.canaryResponsesTimeToFirstTokenMs} ms.`,
        why: 'The Responses API, which the Agents SDK, the Vercel AI SDK and Codex call by default, is slow from this region even for a tiny request.',
        runbook: 'canary-responses-time-to-first-token',
      },
    ],
    row: [
      graph(
        'Canary',
        [metrics.stageMetric(CanaryMetric.success, 'Average')],
        [
          metrics.stageMetric(CanaryMetric.timeToFirstToken, 'p90'),
          metrics.stageMetric(CanaryMetric.responsesTimeToFirstToken, 'p90'),
        ],
      ),
    ],
  };
}
