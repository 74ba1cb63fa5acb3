import { stagingConfig } from '../../../../lib/config';
import {
  alarmProperties,
  metricNames,
  SynthesizedObservability,
  synthObservability,
  widgetMetrics,
} from './fixture';

describe('the ECS service', () => {
  const config = stagingConfig;
  let s: SynthesizedObservability;
  beforeAll(() => (s = synthObservability(config)));

  it.each([
    ['EcsCpu', 'CPUUtilization', config.alarms.ecsCpuPercent],
    ['EcsMemory', 'MemoryUtilization', config.alarms.ecsMemoryPercent],
  ])('alarms %s on the average %s for 15 minutes', (id, metricName, threshold) => {
    expect(alarmProperties(s, config, id)).toMatchObject({
      Namespace: 'AWS/ECS',
      MetricName: metricName,
      Statistic: 'Average',
      Period: 300,
      EvaluationPeriods: 3,
      Threshold: threshold,
      ComparisonOperator: 'GreaterThanThreshold',
    });
  });

  it('plots CPU and memory', () => {
    expect(metricNames(widgetMetrics(s, 'ECS'))).toEqual(['CPUUtilization', 'MemoryUtilization']);
  });
});
