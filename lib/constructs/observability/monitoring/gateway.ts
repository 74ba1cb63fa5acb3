import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { GatewayMetric } from '../../../../runtime/metric-names';
import { FIVE_MINUTES, ProjectMetricFactory } from '../metric-factory';
import { graph, Monitoring, MonitoringContext } from './monitoring';

/** Clients per prompt-cache widget: each takes two metrics and an expression, well within a graph's limits. */
const CLIENTS_PER_CACHE_WIDGET = 10;

export interface GatewayMonitoringProps {
  /** The load balancer's request count, plotted beside the gateway's errors. */
  readonly requestCount: cloudwatch.IMetric;
  /**
   * The gateway's client ids (the `Client` dimension): the dashboard plots each one's prompt-cache
   * hit rate.
   * @default none (the stage-wide rate only)
   */
  readonly clientIds?: readonly string[];
}

/** The gateway's own metrics: upstream latency and 429s, time to first token, load shedding, tokens. */
export function gatewayMonitoring(
  { requestCount, clientIds = [] }: GatewayMonitoringProps,
  { thresholds: t, metrics }: MonitoringContext,
): Monitoring {
  const stage = (name: string, statistic: string) => metrics.stageMetric(name, statistic);
  return {
    alarms: [
      {
        id: 'UpstreamLatency',
        metric: stage(GatewayMetric.upstreamLatency, 'p99'),
        threshold: t.upstreamLatencyP99Ms,
        evaluationPeriods: 3,
        datapointsToAlarm: 2,
        what: `Gateway upstream latency p99 is above ${t.upstreamLatencyP99Ms} ms.`,
        why: 'OpenAI is answering slowly; callers see it as latency and timeouts.',
        runbook: 'upstream-latency',
      },
      {
        id: 'TimeToFirstToken',
        metric: stage(GatewayMetric.timeToFirstToken, 'p99'),
        threshold: t.timeToFirstTokenP99Ms,
        evaluationPeriods: 3,
        datapointsToAlarm: 2,
        what: `Gateway time to first token p99 is above ${t.timeToFirstTokenP99Ms} ms.`,
        why: 'Streaming callers wait that long before they see anything.',
        runbook: 'time-to-first-token',
      },
      {
        id: 'Upstream429',
        metric: new cloudwatch.MathExpression({
          expression: 'IF(requests > 0, 100 * throttled / requests, 0)',
          usingMetrics: {
            throttled: stage(GatewayMetric.upstream429, 'Sum'),
            requests: stage(GatewayMetric.requests, 'Sum'),
          },
          label: 'Upstream 429 %',
          period: FIVE_MINUTES,
        }),
        threshold: t.upstream429Percent,
        what: `OpenAI answered 429 to more than ${t.upstream429Percent}% of gateway requests.`,
        why: "The project's OpenAI rate limit is reached: the gateway retries, latency grows, then callers get 429s.",
        runbook: 'upstream-429',
      },
      {
        id: 'LoadShed',
        metric: stage(GatewayMetric.shed, 'Sum'),
        threshold: t.shedPer5Min,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 3,
        datapointsToAlarm: 2,
        what: `The gateway shed ${t.shedPer5Min} or more requests (503 gateway_overloaded) in 5 minutes, in 2 of 3 periods.`,
        why: 'Its event loop is overloaded: callers get 503 with Retry-After instead of answers until capacity is added.',
        runbook: 'load-shed',
      },
    ],
    row: [
      graph('Requests and errors', [
        requestCount,
        stage(GatewayMetric.errors5xx, 'Sum'),
        stage(GatewayMetric.throttled, 'Sum'),
        stage(GatewayMetric.budgetExceeded, 'Sum'),
        stage(GatewayMetric.shed, 'Sum'),
      ]),
      graph('Latency p99 (ms)', [
        stage(GatewayMetric.latency, 'p99'),
        stage(GatewayMetric.upstreamLatency, 'p99'),
        stage(GatewayMetric.timeToFirstToken, 'p99'),
      ]),
      graph('Upstream', [
        stage(GatewayMetric.upstream429, 'Sum'),
        stage(GatewayMetric.upstreamErrors, 'Sum'),
      ]),
      graph('Tokens', [
        stage(GatewayMetric.promptTokens, 'Sum'),
        stage(GatewayMetric.cachedPromptTokens, 'Sum'),
        stage(GatewayMetric.completionTokens, 'Sum'),
      ]),
      ...promptCacheWidgets(clientIds, metrics),
    ],
  };
}

/**
 * The share of input tokens OpenAI served from its prompt cache, in percent: CachedPromptTokens over
 * PromptTokens (a ratio of sums, so it weighs every request by its tokens, across tasks).
 */
function cachedShare(
  tokens: { readonly cached: cloudwatch.IMetric; readonly prompt: cloudwatch.IMetric },
  line: { readonly id: string; readonly label: string },
): cloudwatch.MathExpression {
  // Metric ids must be unique within a graph: each line names its own.
  const cached = `cached${line.id}`;
  const prompt = `prompt${line.id}`;
  return new cloudwatch.MathExpression({
    expression: `IF(${prompt} > 0, 100 * ${cached} / ${prompt}, 0)`,
    usingMetrics: { [cached]: tokens.cached, [prompt]: tokens.prompt },
    label: line.label,
    period: FIVE_MINUTES,
  });
}

/** Prompt-cache hit rate widgets: the stage's, then each client's, a few clients a widget. */
function promptCacheWidgets(
  clientIds: readonly string[],
  metrics: ProjectMetricFactory,
): cloudwatch.GraphWidget[] {
  const stageShare = cachedShare(
    {
      cached: metrics.stageMetric(GatewayMetric.cachedPromptTokens, 'Sum'),
      prompt: metrics.stageMetric(GatewayMetric.promptTokens, 'Sum'),
    },
    { id: 'Stage', label: 'All clients' },
  );
  const groups: (readonly string[])[] = [];
  for (let i = 0; i < clientIds.length; i += CLIENTS_PER_CACHE_WIDGET)
    groups.push(clientIds.slice(i, i + CLIENTS_PER_CACHE_WIDGET));
  if (groups.length === 0) groups.push([]);
  const clientShare = (id: string, j: number) =>
    cachedShare(
      {
        cached: metrics.clientMetric(GatewayMetric.cachedPromptTokens, id, 'Sum'),
        prompt: metrics.clientMetric(GatewayMetric.promptTokens, id, 'Sum'),
      },
      { id: String(j), label: id },
    );
  return groups.map(
    (group, i) =>
      new cloudwatch.GraphWidget({
        title: `Prompt cache: cached share of input tokens by client (%)${groups.length > 1 ? ` ${i + 1}/${groups.length}` : ''}`,
        left: [...(i === 0 ? [stageShare] : []), ...group.map(clientShare)],
        leftYAxis: { min: 0, max: 100 },
        width: 8,
        height: 6,
      }),
  );
}
