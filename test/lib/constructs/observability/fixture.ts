import { Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { APPLICATION, RUNBOOK_URL, StageConfig } from '../../../../lib/config';
import { validateStageConfig } from '../../../../lib/config/validate';
import type { ServiceMetrics } from '../../../../lib/constructs/observability/monitoring/ecs';
import { Observability, ObservabilityProps } from '../../../../lib/constructs/observability/observability';
import { constructStack, onlyResource, resourcesOf, Synthesized, synthConstruct } from '../../synth';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Json = Record<string, any>;

const ARN = 'arn:aws:elasticloadbalancing:us-east-1:111111111111';
export const TOPIC_ARN = 'arn:aws:sns:us-east-1:111111111111:on-call';
export const SPEND_LEDGER_TABLE = 'spend-ledger';
export const BATCH_DEAD_LETTERS = 'batch-dead-letters';
export const ON_CALL_DEAD_LETTERS = 'on-call-dead-letters';

/** The stage's handlers as `GatewayHandlers` names them, with their purposes. */
export const HANDLERS = {
  Canary: 'the once-a-minute canary call to OpenAI',
  SpendReconciliation: "the hourly comparison of metered spend with OpenAI's costs",
  KeyRotation: 'rotating the OpenAI project key',
  Batch: 'submitting and collecting Batch API jobs',
} as const;

/** A handler as Observability reads it (`HouseFunction`'s id, purpose and function), its function imported. */
class ImportedHandler extends Construct {
  readonly function: lambda.IFunction;
  constructor(
    scope: Construct,
    id: string,
    readonly purpose: string,
  ) {
    super(scope, id);
    this.function = lambda.Function.fromFunctionName(this, 'Function', `${id}-function`);
  }
}

/** The ECS service's two metrics, as `BaseService` makes them (CloudWatch's AWS/ECS service metrics). */
const serviceMetrics = (): ServiceMetrics => {
  const metric = (metricName: string) => (options?: cloudwatch.MetricOptions) =>
    new cloudwatch.Metric({
      namespace: 'AWS/ECS',
      metricName,
      dimensionsMap: { ClusterName: 'gateway', ServiceName: 'gateway' },
      statistic: 'Average',
      ...options,
    });
  return {
    metricCpuUtilization: metric('CPUUtilization'),
    metricMemoryUtilization: metric('MemoryUtilization'),
  };
};

/** Observability's props for `config`'s stage, every resource it watches imported into `stack`. */
export function observabilityProps(stack: Stack, config: StageConfig): ObservabilityProps {
  const gateway = validateStageConfig(config);
  const loadBalancerArn = `${ARN}:loadbalancer/app/gateway/50dc6c495c0c9188`;
  const imported = new Construct(stack, 'Imported');
  return {
    stage: config.name,
    alarmNamePrefix: APPLICATION,
    runbookUrl: RUNBOOK_URL,
    topic: sns.Topic.fromTopicArn(imported, 'Topic', TOPIC_ARN),
    thresholds: config.alarms,
    loadBalancer: elbv2.ApplicationLoadBalancer.fromApplicationLoadBalancerAttributes(imported, 'Alb', {
      loadBalancerArn,
      securityGroupId: 'sg-0123456789abcdef0',
    }),
    targetGroup: elbv2.ApplicationTargetGroup.fromTargetGroupAttributes(imported, 'Targets', {
      targetGroupArn: `${ARN}:targetgroup/gateway/73e2d6bc24d8a067`,
      loadBalancerArns: loadBalancerArn,
    }),
    service: serviceMetrics(),
    cacheClusterIds: Array.from({ length: config.cache.nodes }, (_, i) => `gateway-00${i + 1}`),
    spendLedgerTable: dynamodb.Table.fromTableName(imported, 'SpendLedger', SPEND_LEDGER_TABLE),
    budget: gateway.budget,
    handlers: Object.entries(HANDLERS).map(([id, purpose]) => new ImportedHandler(imported, id, purpose)),
    batchDeadLetterQueue: sqs.Queue.fromQueueArn(
      imported,
      'BatchDeadLetters',
      `arn:aws:sqs:us-east-1:111111111111:${BATCH_DEAD_LETTERS}`,
    ),
    onCallDeadLetterQueue: sqs.Queue.fromQueueArn(
      imported,
      'OnCallDeadLetters',
      `arn:aws:sqs:us-east-1:111111111111:${ON_CALL_DEAD_LETTERS}`,
    ),
    clientIds: gateway.clients.map((c) => c.id),
  };
}

export interface SynthesizedObservability extends Synthesized {
  readonly observability: Observability;
}

/**
 * Observability of `config`'s stage alone in its stack (with `changes` to its props), synthesized
 * with every compliance pack.
 */
export function synthObservability(
  config: StageConfig,
  changes: Partial<ObservabilityProps> = {},
): SynthesizedObservability {
  const stack = constructStack();
  const observability = new Observability(stack, 'Observability', {
    ...observabilityProps(stack, config),
    ...changes,
  });
  return { observability, ...synthConstruct(stack) };
}

/** The alarm named `<prefix>-<stage>-<id>`'s properties. */
export function alarmProperties(s: Synthesized, config: StageConfig, id: string): Json {
  const found = resourcesOf(s, 'AWS::CloudWatch::Alarm').filter(
    ([, r]) => r.Properties.AlarmName === `${APPLICATION}-${config.name}-${id}`,
  );
  expect(found).toHaveLength(1);
  return found[0][1].Properties as Json;
}

/** The widgets of the dashboard, its body's tokens (region, ARNs) read as plain text. */
export function dashboardWidgets(s: Synthesized): Json[] {
  const body = onlyResource(s, 'AWS::CloudWatch::Dashboard')[1].Properties.DashboardBody;
  const text =
    typeof body === 'string'
      ? body
      : (body['Fn::Join'][1] as unknown[]).map((p) => (typeof p === 'string' ? p : 'TOKEN')).join('');
  return JSON.parse(text).widgets as Json[];
}

/** The metrics of the dashboard's widget whose title starts with `prefix`. */
export function widgetMetrics(s: Synthesized, prefix: string): unknown[][] {
  const widget = dashboardWidgets(s).find((w) => String(w.properties.title).startsWith(prefix));
  expect(widget).toBeDefined();
  return widget!.properties.metrics as unknown[][];
}

/** The metric names a widget's metrics list plots. */
export const metricNames = (metrics: unknown[][]): unknown[] =>
  metrics.map((m) => m[1]).filter((n) => typeof n === 'string');
