import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { CanaryMetric, Dimension, GatewayMetric, METRIC_NAMESPACE } from '../../../runtime/metric-names';
import type { HouseFunction } from '../handlers/house-function';
import { AlarmThresholds, DEFAULT_ALARM_THRESHOLDS, RUNBOOK_SECTIONS, RunbookSection } from './thresholds';

const FIVE_MINUTES = Duration.minutes(5);
/** Clients per prompt-cache widget: each takes two metrics and an expression, well within a graph's limits. */
const CLIENTS_PER_CACHE_WIDGET = 10;
const ONE_MINUTE = Duration.minutes(1);

export interface ObservabilityProps {
  /** Stage name: the `Stage` dimension of the custom metrics, and the alarm name prefix. */
  readonly stage: string;
  /** Prefix of every alarm name, e.g. the application name. */
  readonly alarmNamePrefix: string;
  /** URL of docs/runbook.md; alarm descriptions link to its sections. */
  readonly runbookUrl: string;
  /** The on-call topic every alarm notifies (on alarm and on recovery). */
  readonly topic: sns.ITopic;
  readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  readonly targetGroup: elbv2.ApplicationTargetGroup;
  readonly service: ecs.FargateService;
  /** `CacheClusterId`s of the cache nodes. */
  readonly cacheClusterIds: readonly string[];
  /** The stage's spend ledger table, watched for DynamoDB's own errors and throttling. */
  readonly spendLedgerTable: dynamodb.ITable;
  /** Lambda handlers to watch for errors and throttles. */
  readonly handlers: readonly HouseFunction[];
  /** Dead-letter queue of the batch handler: an upload or poll that failed after Lambda's retries. */
  readonly batchDeadLetterQueue: sqs.IQueue;
  /** Dead-letter queue of the on-call subscriptions: a notification no endpoint took. */
  readonly onCallDeadLetterQueue: sqs.IQueue;
  /** The gateway's stage-wide monthly OpenAI budget, USD. */
  readonly monthlyBudgetUsd: number;
  /** Percent of the budget at which on-call is told. */
  readonly notifyAtPercent: number;
  /**
   * The gateway's client ids (the `Client` dimension): the dashboard plots each one's prompt-cache
   * hit rate.
   * @default none (the stage-wide rate only)
   */
  readonly clientIds?: readonly string[];
  /**
   * Thresholds that differ from `DEFAULT_ALARM_THRESHOLDS`.
   * @default the defaults
   */
  readonly thresholds?: Partial<AlarmThresholds>;
}

/** The operations the gateway and reconciliation call on the spend ledger: the `Operation` dimension of its errors. */
const SPEND_LEDGER_OPERATIONS = [dynamodb.Operation.UPDATE_ITEM, dynamodb.Operation.QUERY] as const;

/** What an alarm says to on-call. */
interface AlarmText {
  /** What crossed which line. */
  readonly what: string;
  /** Why it matters to callers or to the bill. */
  readonly why: string;
  readonly section: RunbookSection;
}

interface AlarmSpec extends AlarmText {
  readonly metric: cloudwatch.IMetric;
  readonly threshold: number;
  readonly comparisonOperator?: cloudwatch.ComparisonOperator;
  readonly evaluationPeriods?: number;
  readonly datapointsToAlarm?: number;
  readonly treatMissingData?: cloudwatch.TreatMissingData;
}

/**
 * The stage's alarms and dashboard. Every alarm notifies the on-call topic when it fires and when it
 * recovers, and its description says what fired, why it matters and which runbook section to open.
 */
export class Observability extends Construct {
  readonly alarms: cloudwatch.Alarm[] = [];
  /**
   * The alarms a bad gateway deployment trips: target 5xx rate and target response time. The gateway
   * service rolls a deployment back when one fires during it (`GatewayService.rollBackOnAlarms`), and
   * AppConfig a config version (`GatewayConfigStore`'s rollback monitors).
   */
  readonly deploymentAlarms: readonly cloudwatch.Alarm[];
  readonly dashboard: cloudwatch.Dashboard;
  readonly thresholds: AlarmThresholds;
  private readonly props: ObservabilityProps;

  constructor(scope: Construct, id: string, props: ObservabilityProps) {
    super(scope, id);
    this.props = props;
    this.thresholds = { ...DEFAULT_ALARM_THRESHOLDS, ...props.thresholds };
    if (!(props.monthlyBudgetUsd > 0))
      throw new Error(`Observability: monthlyBudgetUsd must be above 0, got ${props.monthlyBudgetUsd}`);
    if (!(props.notifyAtPercent >= 1 && props.notifyAtPercent <= 100)) {
      throw new Error(`Observability: notifyAtPercent must be from 1 to 100, got ${props.notifyAtPercent}`);
    }
    if (props.cacheClusterIds.length === 0)
      throw new Error('Observability: cacheClusterIds must name at least one node');
    const t = this.thresholds;
    const lb = props.loadBalancer.metrics;
    const tg = props.targetGroup.metrics;

    const requests = lb.requestCount({ period: FIVE_MINUTES, statistic: 'Sum' });
    const percentOf = (count: cloudwatch.IMetric, label: string): cloudwatch.MathExpression =>
      new cloudwatch.MathExpression({
        expression: 'IF(requests > 0, 100 * errors / requests, 0)',
        usingMetrics: { errors: count, requests },
        label,
        period: FIVE_MINUTES,
      });

    const targetLatency = this.addAlarm('AlbTargetLatency', {
      metric: lb.targetResponseTime({ period: FIVE_MINUTES, statistic: 'p99' }),
      threshold: t.albTargetP99Seconds,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      what: `ALB p99 target response time is above ${t.albTargetP99Seconds} s.`,
      why: 'Callers wait that long for response headers; non-streamed completions are the usual cause, an overloaded gateway or slow upstream the dangerous one.',
      section: 'albTargetLatency',
    });
    this.addAlarm('Alb5xx', {
      metric: percentOf(
        lb.httpCodeElb(elbv2.HttpCodeElb.ELB_5XX_COUNT, { period: FIVE_MINUTES, statistic: 'Sum' }),
        'ALB 5xx %',
      ),
      threshold: t.alb5xxPercent,
      what: `More than ${t.alb5xxPercent}% of requests got a 5xx generated by the load balancer itself.`,
      why: 'The ALB had no healthy target or a target closed the connection: callers get errors that never reached the gateway.',
      section: 'alb5xx',
    });
    const target5xx = this.addAlarm('Target5xx', {
      metric: percentOf(
        tg.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, { period: FIVE_MINUTES, statistic: 'Sum' }),
        'Target 5xx %',
      ),
      threshold: t.target5xxPercent,
      what: `More than ${t.target5xxPercent}% of requests got a 5xx from the gateway.`,
      why: 'The gateway is failing requests: upstream errors after retries, a missing secret, or a gateway bug.',
      section: 'target5xx',
    });
    this.deploymentAlarms = [target5xx, targetLatency];
    this.addAlarm('UpstreamLatency', {
      metric: this.stageMetric(GatewayMetric.upstreamLatency, 'p99'),
      threshold: t.upstreamLatencyP99Ms,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      what: `Gateway upstream latency p99 is above ${t.upstreamLatencyP99Ms} ms.`,
      why: 'OpenAI is answering slowly; callers see it as latency and timeouts.',
      section: 'upstreamLatency',
    });
    this.addAlarm('TimeToFirstToken', {
      metric: this.stageMetric(GatewayMetric.timeToFirstToken, 'p99'),
      threshold: t.timeToFirstTokenP99Ms,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      what: `Gateway time to first token p99 is above ${t.timeToFirstTokenP99Ms} ms.`,
      why: 'Streaming callers wait that long before they see anything.',
      section: 'timeToFirstToken',
    });
    this.addAlarm('CanaryFailure', {
      metric: this.stageMetric(CanaryMetric.success, 'Minimum', ONE_MINUTE),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: 5,
      datapointsToAlarm: t.canaryFailedMinutesOf5,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      what: `The canary failed or did not report in ${t.canaryFailedMinutesOf5} of the last 5 minutes.`,
      why: "A real call to OpenAI from this region with this stage's key is failing: callers are probably failing too.",
      section: 'canaryFailure',
    });
    this.addAlarm('CanaryTimeToFirstToken', {
      metric: this.stageMetric(CanaryMetric.timeToFirstToken, 'p90', FIVE_MINUTES),
      threshold: t.canaryTimeToFirstTokenMs,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      what: `The canary's time to first token is above ${t.canaryTimeToFirstTokenMs} ms.`,
      why: 'OpenAI is slow from this region even for a tiny request, independent of gateway load.',
      section: 'canaryTimeToFirstToken',
    });
    this.addAlarm('CanaryResponsesTimeToFirstToken', {
      metric: this.stageMetric(CanaryMetric.responsesTimeToFirstToken, 'p90', FIVE_MINUTES),
      threshold: t.canaryResponsesTimeToFirstTokenMs,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      what: `The canary's Responses time to first token is above ${t.canaryResponsesTimeToFirstTokenMs} ms.`,
      why: 'The Responses API, which the Agents SDK, the Vercel AI SDK and Codex call by default, is slow from this region even for a tiny request.',
      section: 'canaryResponsesTimeToFirstToken',
    });
    this.addAlarm('Upstream429', {
      metric: new cloudwatch.MathExpression({
        expression: 'IF(requests > 0, 100 * throttled / requests, 0)',
        usingMetrics: {
          throttled: this.stageMetric(GatewayMetric.upstream429, 'Sum'),
          requests: this.stageMetric(GatewayMetric.requests, 'Sum'),
        },
        label: 'Upstream 429 %',
        period: FIVE_MINUTES,
      }),
      threshold: t.upstream429Percent,
      what: `OpenAI answered 429 to more than ${t.upstream429Percent}% of gateway requests.`,
      why: "The project's OpenAI rate limit is reached: the gateway retries, latency grows, then callers get 429s.",
      section: 'upstream429',
    });
    const spendThreshold = (props.monthlyBudgetUsd * props.notifyAtPercent) / 100;
    this.addAlarm('SpendThreshold', {
      metric: this.stageMetric(GatewayMetric.monthToDateSpendUsd, 'Maximum'),
      threshold: spendThreshold,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      what: `Month-to-date OpenAI spend reached ${spendThreshold} USD, ${props.notifyAtPercent}% of the ${props.monthlyBudgetUsd} USD stage budget.`,
      why: 'At 100% the gateway refuses every request until the month ends or the budget is raised.',
      section: 'spend',
    });
    this.addAlarm('CacheErrors', {
      metric: this.stageMetric(GatewayMetric.storeErrors, 'Sum'),
      threshold: t.cacheErrorsPer5Min,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      what: `The gateway counted ${t.cacheErrorsPer5Min} or more cache (Redis) failures in 5 minutes.`,
      why: 'Without the cache, responses are not reused and limits and budgets fall back to the store fallback policy.',
      section: 'cacheErrors',
    });
    this.addAlarm('StoreFallback', {
      metric: this.stageMetric(GatewayMetric.fallbackAdmissions, 'Sum'),
      threshold: t.fallbackAdmissionsPer5Min,
      evaluationPeriods: 2,
      datapointsToAlarm: 2,
      what: `The store fallback decided more than ${t.fallbackAdmissionsPer5Min} admissions in each of two 5-minute periods: Redis has not answered for 10 minutes.`,
      why: 'Each task now enforces only its share of the limits and of the budget left, callers get fewer requests than their limits, and nothing is cached.',
      section: 'storeFallback',
    });
    this.addAlarm('LedgerWriteErrors', {
      metric: this.stageMetric(GatewayMetric.ledgerWriteErrors, 'Sum'),
      threshold: t.ledgerWriteErrorsPer5Min,
      evaluationPeriods: 3,
      datapointsToAlarm: 3,
      what: `Spend ledger (DynamoDB) writes failed more than ${t.ledgerWriteErrorsPer5Min} times in each of three 5-minute periods.`,
      why: 'The spend not yet written lives only in task memory: a task that stops now loses it, and a Redis rebuilt from the ledger would undercount the month.',
      section: 'ledgerWriteErrors',
    });
    this.addAlarm('LedgerReadErrors', {
      metric: this.stageMetric(GatewayMetric.ledgerReadErrors, 'Sum'),
      threshold: t.ledgerReadErrorsPer5Min,
      what: `Spend ledger (DynamoDB) reads failed more than ${t.ledgerReadErrorsPer5Min} times in 5 minutes.`,
      why: 'The ledger is read only when Redis is empty or out: an empty Redis cannot be seeded, so spend admissions fail, and the fallback refuses scopes it has no spend for.',
      section: 'ledgerReadErrors',
    });
    this.addAlarm('SpendLedgerTableErrors', {
      metric: this.spendLedgerTableErrors(),
      threshold: t.spendLedgerTableErrorsPer5Min,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      what: `The spend ledger table had ${t.spendLedgerTableErrorsPer5Min} or more DynamoDB system errors or throttled requests in 5 minutes, in 2 of 3 periods.`,
      why: 'DynamoDB itself is failing or throttling the ledger: writes queue in task memory and reads of an empty Redis fail.',
      section: 'spendLedgerTable',
    });
    const evictions: Record<string, cloudwatch.IMetric> = {};
    props.cacheClusterIds.forEach((clusterId, i) => {
      evictions[`node${i}`] = new cloudwatch.Metric({
        namespace: 'AWS/ElastiCache',
        metricName: 'Evictions',
        dimensionsMap: { CacheClusterId: clusterId },
        statistic: 'Sum',
        period: FIVE_MINUTES,
      });
    });
    this.addAlarm('CacheEvictions', {
      metric: new cloudwatch.MathExpression({
        expression: `SUM([${Object.keys(evictions).join(', ')}])`,
        usingMetrics: evictions,
        label: 'Evictions',
        period: FIVE_MINUTES,
      }),
      threshold: t.cacheEvictionsPer5Min,
      what: `The cache evicted more than ${t.cacheEvictionsPer5Min} keys in 5 minutes.`,
      why: 'The cache is out of memory: cached responses are being dropped (spend counters and rate state carry no TTL, so volatile-lru keeps them).',
      section: 'cacheEvictions',
    });
    const memory: Record<string, cloudwatch.IMetric> = {};
    props.cacheClusterIds.forEach((clusterId, i) => {
      memory[`node${i}`] = new cloudwatch.Metric({
        namespace: 'AWS/ElastiCache',
        metricName: 'DatabaseMemoryUsagePercentage',
        dimensionsMap: { CacheClusterId: clusterId },
        statistic: 'Maximum',
        period: FIVE_MINUTES,
      });
    });
    this.addAlarm('CacheMemory', {
      metric: new cloudwatch.MathExpression({
        expression: `MAX([${Object.keys(memory).join(', ')}])`,
        usingMetrics: memory,
        label: 'Memory used (%)',
        period: FIVE_MINUTES,
      }),
      threshold: t.cacheMemoryPercent,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      what: `A cache node used ${t.cacheMemoryPercent}% or more of its memory.`,
      why: 'Near its limit the cache evicts cached answers; once only keys without a TTL are left (spend counters, rate state, pending entries) writes fail and limits fall back to the store fallback policy.',
      section: 'cacheMemory',
    });
    this.addAlarm('LoadShed', {
      metric: this.stageMetric(GatewayMetric.shed, 'Sum'),
      threshold: t.shedPer5Min,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      what: `The gateway shed ${t.shedPer5Min} or more requests (503 gateway_overloaded) in 5 minutes, in 2 of 3 periods.`,
      why: 'Its event loop is overloaded: callers get 503 with Retry-After instead of answers until capacity is added.',
      section: 'loadShed',
    });
    this.addAlarm('EcsCpu', {
      metric: props.service.metricCpuUtilization({ period: FIVE_MINUTES }),
      threshold: t.ecsCpuPercent,
      evaluationPeriods: 3,
      what: `Gateway tasks average above ${t.ecsCpuPercent}% CPU for 15 minutes.`,
      why: 'Autoscaling is at its maximum or too slow; latency grows and health checks may fail.',
      section: 'ecsCpu',
    });
    this.addAlarm('EcsMemory', {
      metric: props.service.metricMemoryUtilization({ period: FIVE_MINUTES }),
      threshold: t.ecsMemoryPercent,
      evaluationPeriods: 3,
      what: `Gateway tasks average above ${t.ecsMemoryPercent}% memory for 15 minutes.`,
      why: 'A task near its memory limit is killed, dropping every stream it holds.',
      section: 'ecsMemory',
    });
    this.addAlarm('UnhealthyTargets', {
      metric: tg.unhealthyHostCount({ period: ONE_MINUTE, statistic: 'Maximum' }),
      threshold: t.unhealthyTargets,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 3,
      what: `${t.unhealthyTargets} or more gateway targets failed the /readyz health check for 3 minutes.`,
      why: 'Capacity is lower than it looks; with every target unhealthy the ALB answers 503.',
      section: 'unhealthyTargets',
    });
    this.addAlarm('BatchDeadLetters', {
      metric: props.batchDeadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: FIVE_MINUTES,
        statistic: 'Maximum',
      }),
      threshold: 0,
      what: 'The batch dead-letter queue holds a message: a batch invocation still failed after Lambda retried it twice.',
      why: 'An uploaded batch file was not submitted to OpenAI (or a poll failed), and nothing retries it: the caller waits for output that will not come.',
      section: 'batchDeadLetters',
    });
    this.addAlarm('OnCallDeadLetters', {
      metric: props.onCallDeadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: FIVE_MINUTES,
        statistic: 'Maximum',
      }),
      threshold: 0,
      what: 'The on-call dead-letter queue holds a message: SNS could not deliver a notification to a subscription (pager or email).',
      why: 'An alarm or budget notification did not reach on-call through that channel: a page may have been missed.',
      section: 'onCallDeadLetters',
    });
    for (const handler of props.handlers) {
      const name = handler.node.id;
      this.addAlarm(`${name}Errors`, {
        metric: handler.function.metricErrors({ period: FIVE_MINUTES, statistic: 'Sum' }),
        threshold: t.lambdaErrorsPer5Min,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        what: `The ${name} Lambda handler failed ${t.lambdaErrorsPer5Min} or more times in 5 minutes.`,
        why: `${capitalize(handler.purpose)} is not being done.`,
        section: 'lambdaErrors',
      });
      this.addAlarm(`${name}Throttles`, {
        metric: handler.function.metricThrottles({ period: FIVE_MINUTES, statistic: 'Sum' }),
        threshold: t.lambdaThrottlesPer5Min,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        what: `The ${name} Lambda handler was throttled ${t.lambdaThrottlesPer5Min} or more times in 5 minutes.`,
        why: `The account's Lambda concurrency is exhausted, so ${handler.purpose} is delayed or skipped.`,
        section: 'lambdaThrottles',
      });
    }

    this.dashboard = this.buildDashboard();
  }

  /** A gateway metric on the `[Stage, Client]` dimension set. */
  clientMetric(metricName: string, clientId: string, statistic: string): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: METRIC_NAMESPACE,
      metricName,
      dimensionsMap: { [Dimension.stage]: this.props.stage, [Dimension.client]: clientId },
      statistic,
      period: FIVE_MINUTES,
    });
  }

  /**
   * The share of input tokens OpenAI served from its prompt cache, in percent: CachedPromptTokens over
   * PromptTokens (a ratio of sums, so it weighs every request by its tokens, across tasks).
   */
  private cachedShare(
    metrics: { readonly cached: cloudwatch.IMetric; readonly prompt: cloudwatch.IMetric },
    line: { readonly id: string; readonly label: string },
  ): cloudwatch.MathExpression {
    // Metric ids must be unique within a graph: each line names its own.
    const cached = `cached${line.id}`;
    const prompt = `prompt${line.id}`;
    return new cloudwatch.MathExpression({
      expression: `IF(${prompt} > 0, 100 * ${cached} / ${prompt}, 0)`,
      usingMetrics: { [cached]: metrics.cached, [prompt]: metrics.prompt },
      label: line.label,
      period: FIVE_MINUTES,
    });
  }

  /** Prompt-cache hit rate widgets: the stage's, then each client's, a few clients a widget. */
  private promptCacheWidgets(): cloudwatch.GraphWidget[] {
    const stageShare = this.cachedShare(
      {
        cached: this.stageMetric(GatewayMetric.cachedPromptTokens, 'Sum'),
        prompt: this.stageMetric(GatewayMetric.promptTokens, 'Sum'),
      },
      { id: 'Stage', label: 'All clients' },
    );
    const clients = this.props.clientIds ?? [];
    const groups: (readonly string[])[] = [];
    for (let i = 0; i < clients.length; i += CLIENTS_PER_CACHE_WIDGET)
      groups.push(clients.slice(i, i + CLIENTS_PER_CACHE_WIDGET));
    if (groups.length === 0) groups.push([]);
    return groups.map(
      (group, i) =>
        new cloudwatch.GraphWidget({
          title: `Prompt cache: cached share of input tokens by client (%)${groups.length > 1 ? ` ${i + 1}/${groups.length}` : ''}`,
          left: [
            ...(i === 0 ? [stageShare] : []),
            ...group.map((id, j) =>
              this.cachedShare(
                {
                  cached: this.clientMetric(GatewayMetric.cachedPromptTokens, id, 'Sum'),
                  prompt: this.clientMetric(GatewayMetric.promptTokens, id, 'Sum'),
                },
                { id: String(j), label: id },
              ),
            ),
          ],
          leftYAxis: { min: 0, max: 100 },
          width: 8,
          height: 6,
        }),
    );
  }

  /** SystemErrors plus ThrottledRequests of the spend ledger table, summed over the operations it is called with. */
  private spendLedgerTableErrors(): cloudwatch.MathExpression {
    const table = this.props.spendLedgerTable;
    const metrics: Record<string, cloudwatch.IMetric> = {};
    SPEND_LEDGER_OPERATIONS.forEach((operation, i) => {
      const dimensionsMap = { TableName: table.tableName, Operation: operation };
      for (const [id, metricName] of [
        [`system${i}`, 'SystemErrors'],
        [`throttled${i}`, 'ThrottledRequests'],
      ] as const) {
        metrics[id] = new cloudwatch.Metric({
          namespace: 'AWS/DynamoDB',
          metricName,
          dimensionsMap,
          statistic: 'Sum',
          period: FIVE_MINUTES,
        });
      }
    });
    return new cloudwatch.MathExpression({
      expression: `SUM([${Object.keys(metrics).join(', ')}])`,
      usingMetrics: metrics,
      label: 'Spend ledger system errors + throttled requests',
      period: FIVE_MINUTES,
    });
  }

  /** A project metric (gateway EMF or a handler's) on the stage-wide `[Stage]` dimension set. */
  stageMetric(metricName: string, statistic: string, period: Duration = FIVE_MINUTES): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: METRIC_NAMESPACE,
      metricName,
      dimensionsMap: { [Dimension.stage]: this.props.stage },
      statistic,
      period,
    });
  }

  private addAlarm(id: string, spec: AlarmSpec): cloudwatch.Alarm {
    const alarm = new cloudwatch.Alarm(this, id, {
      alarmName: `${this.props.alarmNamePrefix}-${this.props.stage}-${id}`,
      alarmDescription: describeAlarm(spec, this.props.runbookUrl),
      metric: spec.metric,
      threshold: spec.threshold,
      comparisonOperator: spec.comparisonOperator ?? cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: spec.evaluationPeriods ?? 1,
      datapointsToAlarm: spec.datapointsToAlarm,
      treatMissingData: spec.treatMissingData ?? cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    const action = new actions.SnsAction(this.props.topic);
    alarm.addAlarmAction(action);
    alarm.addOkAction(action);
    this.alarms.push(alarm);
    return alarm;
  }

  private buildDashboard(): cloudwatch.Dashboard {
    const { loadBalancer, targetGroup, service, stage } = this.props;
    const graph = (
      title: string,
      left: cloudwatch.IMetric[],
      right: cloudwatch.IMetric[] = [],
    ): cloudwatch.GraphWidget => new cloudwatch.GraphWidget({ title, left, right, width: 8, height: 6 });
    const dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.hours(6),
    });
    dashboard.addWidgets(
      new cloudwatch.TextWidget({
        markdown: `# ${stage} OpenAI gateway\nAlarms link to the [runbook](${this.props.runbookUrl}).`,
        width: 24,
        height: 2,
      }),
    );
    dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 24, height: 4 }),
    );
    dashboard.addWidgets(
      graph('Requests and errors', [
        loadBalancer.metrics.requestCount({ period: FIVE_MINUTES }),
        this.stageMetric(GatewayMetric.errors5xx, 'Sum'),
        this.stageMetric(GatewayMetric.throttled, 'Sum'),
        this.stageMetric(GatewayMetric.budgetExceeded, 'Sum'),
        this.stageMetric(GatewayMetric.shed, 'Sum'),
      ]),
      graph('Latency p99 (ms)', [
        this.stageMetric(GatewayMetric.latency, 'p99'),
        this.stageMetric(GatewayMetric.upstreamLatency, 'p99'),
        this.stageMetric(GatewayMetric.timeToFirstToken, 'p99'),
      ]),
      graph('Upstream', [
        this.stageMetric(GatewayMetric.upstream429, 'Sum'),
        this.stageMetric(GatewayMetric.upstreamErrors, 'Sum'),
      ]),
    );
    dashboard.addWidgets(
      graph('Tokens', [
        this.stageMetric(GatewayMetric.promptTokens, 'Sum'),
        this.stageMetric(GatewayMetric.cachedPromptTokens, 'Sum'),
        this.stageMetric(GatewayMetric.completionTokens, 'Sum'),
      ]),
      new cloudwatch.GraphWidget({
        title: 'Month-to-date spend (USD)',
        left: [this.stageMetric(GatewayMetric.monthToDateSpendUsd, 'Maximum', Duration.hours(1))],
        leftAnnotations: [
          { value: this.props.monthlyBudgetUsd, label: 'Monthly budget', color: cloudwatch.Color.RED },
          {
            value: (this.props.monthlyBudgetUsd * this.props.notifyAtPercent) / 100,
            label: 'Notify at',
            color: cloudwatch.Color.ORANGE,
          },
        ],
        width: 8,
        height: 6,
      }),
      graph('Cache', [
        this.stageMetric(GatewayMetric.cacheHits, 'Sum'),
        this.stageMetric(GatewayMetric.cacheMisses, 'Sum'),
        this.stageMetric(GatewayMetric.storeErrors, 'Sum'),
      ]),
    );
    dashboard.addWidgets(
      graph('ECS', [service.metricCpuUtilization(), service.metricMemoryUtilization()]),
      graph('Targets', [
        targetGroup.metrics.healthyHostCount({ statistic: 'Minimum' }),
        targetGroup.metrics.unhealthyHostCount({ statistic: 'Maximum' }),
      ]),
      graph(
        'Canary',
        [this.stageMetric(CanaryMetric.success, 'Average')],
        [
          this.stageMetric(CanaryMetric.timeToFirstToken, 'p90'),
          this.stageMetric(CanaryMetric.responsesTimeToFirstToken, 'p90'),
        ],
      ),
    );
    dashboard.addWidgets(
      graph('Store fallback: admissions while Redis cannot answer', [
        this.stageMetric(GatewayMetric.fallbackAdmissions, 'Sum'),
        this.stageMetric(GatewayMetric.storeErrors, 'Sum'),
      ]),
      graph('Spend ledger errors', [
        this.stageMetric(GatewayMetric.ledgerWriteErrors, 'Sum'),
        this.stageMetric(GatewayMetric.ledgerReadErrors, 'Sum'),
        this.spendLedgerTableErrors(),
      ]),
    );
    dashboard.addWidgets(...this.promptCacheWidgets());
    dashboard.addWidgets(
      graph(
        'Lambda handlers: errors and throttles',
        this.props.handlers.flatMap((h) => [h.function.metricErrors(), h.function.metricThrottles()]),
      ),
    );
    return dashboard;
  }
}

/** The alarm description: what fired, why it matters, which runbook section to open. */
export function describeAlarm(text: AlarmText, runbookUrl: string): string {
  return `${text.what} Why it matters: ${text.why} Runbook: ${runbookUrl}#${RUNBOOK_SECTIONS[text.section]}`;
}

const capitalize = (text: string): string => text.charAt(0).toUpperCase() + text.slice(1);
