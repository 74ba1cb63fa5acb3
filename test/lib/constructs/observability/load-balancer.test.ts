import { stagingConfig } from '../../../../lib/config';
import {
  alarmProperties,
  metricNames,
  SynthesizedObservability,
  synthObservability,
  widgetMetrics,
} from './fixture';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Json = Record<string, any>;

describe('the load balancer and its targets', () => {
  const config = stagingConfig;
  const t = config.alarms;
  let s: SynthesizedObservability;
  beforeAll(() => (s = synthObservability(config)));

  it('alarms on the p99 target response time in 2 of 3 periods', () => {
    expect(alarmProperties(s, config, 'AlbTargetLatency')).toMatchObject({
      Namespace: 'AWS/ApplicationELB',
      MetricName: 'TargetResponseTime',
      ExtendedStatistic: 'p99',
      Threshold: t.albTargetP99Seconds,
      EvaluationPeriods: 3,
      DatapointsToAlarm: 2,
    });
  });

  it.each([
    ['Alb5xx', 'HTTPCode_ELB_5XX_Count', t.alb5xxPercent],
    ['Target5xx', 'HTTPCode_Target_5XX_Count', t.target5xxPercent],
  ])('alarms %s on %s as a percent of requests', (id, metricName, threshold) => {
    const alarm = alarmProperties(s, config, id);
    expect(alarm.Threshold).toBe(threshold);
    const queries = alarm.Metrics as Json[];
    expect(queries.find((q) => q.Expression)?.Expression).toBe(
      'IF(requests > 0, 100 * errors / requests, 0)',
    );
    expect(queries.filter((q) => q.MetricStat).map((q) => [q.Id, q.MetricStat.Metric.MetricName])).toEqual(
      expect.arrayContaining([
        ['errors', metricName],
        ['requests', 'RequestCount'],
      ]),
    );
  });

  it('alarms when a target is unhealthy for 3 minutes', () => {
    expect(alarmProperties(s, config, 'UnhealthyTargets')).toMatchObject({
      MetricName: 'UnHealthyHostCount',
      Period: 60,
      EvaluationPeriods: 3,
      Threshold: t.unhealthyTargets,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
  });

  it('plots healthy and unhealthy targets', () => {
    expect(metricNames(widgetMetrics(s, 'Targets'))).toEqual(['HealthyHostCount', 'UnHealthyHostCount']);
  });
});
