import { APPLICATION, productionConfig, stagingConfig } from '../../../../lib/config';
import { METRIC_NAMESPACE } from '../../../../runtime/metric-names';
import {
  alarmProperties,
  metricNames,
  observabilityProps,
  SynthesizedObservability,
  synthObservability,
  widgetMetrics,
} from './fixture';
import { Observability } from '../../../../lib/constructs/observability/observability';
import { constructStack } from '../../synth';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Json = Record<string, any>;

describe.each([
  ['Staging', stagingConfig],
  ['Production', productionConfig],
] as const)('the cache of the %s stage', (_name, config) => {
  let s: SynthesizedObservability;
  beforeAll(() => (s = synthObservability(config)));

  it('alarms StoreFallback on any FallbackAdmissions from the [Stage] EMF dimension set', () => {
    s.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: `${APPLICATION}-${config.name}-StoreFallback`,
      Namespace: METRIC_NAMESPACE,
      MetricName: 'FallbackAdmissions',
      Dimensions: [{ Name: 'Stage', Value: config.name }],
      Statistic: 'Sum',
      Period: 300,
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 0,
      EvaluationPeriods: 2,
      DatapointsToAlarm: 2,
      TreatMissingData: 'notBreaching',
    });
  });

  it('sums evictions over every cache node', () => {
    const nodes = (alarmProperties(s, config, 'CacheEvictions').Metrics as Json[]).filter(
      (m) => m.MetricStat,
    );
    expect(nodes).toHaveLength(config.cache.nodes);
  });

  it('pages when the fullest node nears its memory limit', () => {
    const alarm = alarmProperties(s, config, 'CacheMemory');
    expect(alarm).toMatchObject({ Threshold: 80, ComparisonOperator: 'GreaterThanOrEqualToThreshold' });
    expect((alarm.Metrics as Json[]).find((m) => m.Expression)?.Expression).toMatch(/^MAX\(\[/);
    const nodes = (alarm.Metrics as Json[]).filter((m) => m.MetricStat);
    expect(nodes.map((m) => m.MetricStat.Metric.MetricName)).toEqual(
      Array(config.cache.nodes).fill('DatabaseMemoryUsagePercentage'),
    );
  });

  it('plots the store fallback on the dashboard', () => {
    expect(metricNames(widgetMetrics(s, 'Store fallback'))).toEqual(['FallbackAdmissions', 'StoreErrors']);
  });
});

it('Observability refuses a cache without nodes', () => {
  const stack = constructStack();
  expect(
    () => new Observability(stack, 'O', { ...observabilityProps(stack, stagingConfig), cacheClusterIds: [] }),
  ).toThrow('Observability: cacheClusterIds must name at least one node');
});
