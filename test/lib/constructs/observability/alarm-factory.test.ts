import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import {
  AlarmFactory,
  AlarmSpec,
  describeAlarm,
} from '../../../../lib/constructs/observability/alarm-factory';
import { ProjectMetricFactory } from '../../../../lib/constructs/observability/metric-factory';
import { METRIC_NAMESPACE } from '../../../../runtime/metric-names';
import { constructStack, onlyResource, synthConstruct } from '../../synth';
import { TOPIC_ARN } from './fixture';

const RUNBOOK = 'https://example.com/runbook.md';

const spec = (metrics: ProjectMetricFactory): AlarmSpec => ({
  id: 'Example',
  metric: metrics.stageMetric('Errors5xx', 'Sum'),
  threshold: 3,
  what: 'Three things failed.',
  why: 'Callers notice.',
  runbook: 'target-5xx',
});

describe('AlarmFactory', () => {
  it('names, describes and wires an alarm from its spec, with the defaults for what the spec leaves out', () => {
    const stack = constructStack();
    const scope = new Construct(stack, 'Observability');
    const factory = new AlarmFactory(scope, {
      stage: 'Staging',
      alarmNamePrefix: 'app',
      runbookUrl: RUNBOOK,
      topic: sns.Topic.fromTopicArn(stack, 'Topic', TOPIC_ARN),
    });
    const alarm = factory.addAlarm(spec(new ProjectMetricFactory('Staging')));
    expect(factory.alarms).toEqual([alarm]);
    expect(factory.alarm('Example')).toBe(alarm);
    expect(() => factory.alarm('Other')).toThrow('AlarmFactory: no alarm Other');
    const [id, resource] = onlyResource(synthConstruct(stack), 'AWS::CloudWatch::Alarm');
    expect(id).toMatch(/^ObservabilityExample[0-9A-F]{8}$/);
    expect(resource.Properties).toEqual({
      AlarmName: 'app-Staging-Example',
      AlarmDescription: `Three things failed. Why it matters: Callers notice. Runbook: ${RUNBOOK}#target-5xx`,
      Namespace: METRIC_NAMESPACE,
      MetricName: 'Errors5xx',
      Dimensions: [{ Name: 'Stage', Value: 'Staging' }],
      Statistic: 'Sum',
      Period: 300,
      Threshold: 3,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 1,
      TreatMissingData: 'notBreaching',
      AlarmActions: [TOPIC_ARN],
      OKActions: [TOPIC_ARN],
    });
  });

  it('describes an alarm by what fired, why it matters and its runbook section', () => {
    expect(describeAlarm({ what: 'W.', why: 'Y.', runbook: 'alb-5xx' }, RUNBOOK)).toBe(
      `W. Why it matters: Y. Runbook: ${RUNBOOK}#alb-5xx`,
    );
  });
});

describe('ProjectMetricFactory', () => {
  it("makes the project's metrics on the [Stage] and [Stage, Client] dimension sets", () => {
    const metrics = new ProjectMetricFactory('Production');
    const stage = metrics.stageMetric('Latency', 'p99');
    expect([
      stage.namespace,
      stage.metricName,
      stage.dimensions,
      stage.statistic,
      stage.period.toMinutes(),
    ]).toEqual([METRIC_NAMESPACE, 'Latency', { Stage: 'Production' }, 'p99', 5]);
    const client = metrics.clientMetric('PromptTokens', 'app', 'Sum');
    expect(client.dimensions).toEqual({ Stage: 'Production', Client: 'app' });
    expect(client.period.toMinutes()).toBe(5);
  });
});
