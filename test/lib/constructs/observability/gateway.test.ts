import { productionConfig, stagingConfig } from '../../../../lib/config';
import { METRIC_NAMESPACE } from '../../../../runtime/metric-names';
import { dashboardWidgets, SynthesizedObservability, synthObservability } from './fixture';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Json = Record<string, any>;

const isObject = (v: unknown): boolean => typeof v === 'object' && v !== null && !Array.isArray(v);

describe.each([
  ['Staging', stagingConfig],
  ['Production', productionConfig],
] as const)("the gateway's own metrics of the %s stage", (_name, config) => {
  let s: SynthesizedObservability;
  beforeAll(() => (s = synthObservability(config)));

  it('alarms on sustained load shedding from the [Stage] EMF dimension set', () => {
    s.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: METRIC_NAMESPACE,
      MetricName: 'Shed',
      Dimensions: [{ Name: 'Stage', Value: config.name }],
      Statistic: 'Sum',
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Threshold: 100,
      EvaluationPeriods: 3,
      DatapointsToAlarm: 2,
    });
  });

  it('alarms on gateway latency from the [Stage] EMF dimension set', () => {
    for (const metricName of ['UpstreamLatency', 'TimeToFirstToken']) {
      s.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: METRIC_NAMESPACE,
        MetricName: metricName,
        Dimensions: [{ Name: 'Stage', Value: config.name }],
        ExtendedStatistic: 'p99',
      });
    }
  });

  it("plots each client's cached share of input tokens from the [Stage, Client] EMF metrics", () => {
    const widgets = dashboardWidgets(s).filter((w) => String(w.properties.title).startsWith('Prompt cache'));
    expect(widgets.length).toBeGreaterThan(0);
    const metrics = widgets.flatMap((w) => w.properties.metrics as unknown[][]);
    const expressions = metrics.filter((m) => isObject(m[0]) && 'expression' in (m[0] as Json));
    // The stage-wide share and one per client, each a ratio of sums.
    expect(expressions).toHaveLength(config.gateway.clients.length + 1);
    for (const e of expressions)
      expect((e[0] as Json).expression).toMatch(/^IF\((prompt\w+) > 0, 100 \* (cached\w+) \/ \1, 0\)$/);
    for (const client of config.gateway.clients) {
      for (const metricName of ['CachedPromptTokens', 'PromptTokens']) {
        expect(metrics).toContainEqual([
          METRIC_NAMESPACE,
          metricName,
          'Client',
          client.id,
          'Stage',
          config.name,
          expect.objectContaining({ stat: 'Sum', visible: false }),
        ]);
      }
      expect(expressions.map((e) => (e[0] as Json).label)).toContain(client.id);
    }
  });
});
