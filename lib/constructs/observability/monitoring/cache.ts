import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { GatewayMetric } from '../../../../runtime/metric-names';
import { combined, FIVE_MINUTES } from '../metric-factory';
import { graph, Monitoring, MonitoringContext } from './monitoring';

export interface CacheMonitoringProps {
  /** `CacheClusterId`s of the cache nodes, at least one. */
  readonly cacheClusterIds: readonly string[];
}

/** The cache (Redis): the gateway's failures to reach it, the store fallback that then decides, evictions and memory. */
export function cacheMonitoring(
  { cacheClusterIds }: CacheMonitoringProps,
  { thresholds: t, metrics }: MonitoringContext,
): Monitoring {
  if (cacheClusterIds.length === 0)
    throw new Error('Observability: cacheClusterIds must name at least one node');
  const everyNode = (metricName: string, statistic: string): Record<string, cloudwatch.IMetric> =>
    Object.fromEntries(
      cacheClusterIds.map((clusterId, i) => [
        `node${i}`,
        new cloudwatch.Metric({
          namespace: 'AWS/ElastiCache',
          metricName,
          dimensionsMap: { CacheClusterId: clusterId },
          statistic,
          period: FIVE_MINUTES,
        }),
      ]),
    );
  return {
    alarms: [
      {
        id: 'CacheErrors',
        metric: metrics.stageMetric(GatewayMetric.storeErrors, 'Sum'),
        threshold: t.cacheErrorsPer5Min,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        what: `The gateway counted ${t.cacheErrorsPer5Min} or more cache (Redis) failures in 5 minutes.`,
        why: 'Without the cache, responses are not reused and limits and budgets fall back to the store fallback policy.',
        runbook: 'cache-errors',
      },
      {
        id: 'StoreFallback',
        metric: metrics.stageMetric(GatewayMetric.fallbackAdmissions, 'Sum'),
        threshold: t.fallbackAdmissionsPer5Min,
        evaluationPeriods: 2,
        datapointsToAlarm: 2,
        what: `The store fallback decided more than ${t.fallbackAdmissionsPer5Min} admissions in each of two 5-minute periods: Redis has not answered for 10 minutes.`,
        why: 'Each task now enforces only its share of the limits and of the budget left, callers get fewer requests than their limits, and nothing is cached.',
        runbook: 'store-fallback',
      },
      {
        id: 'CacheEvictions',
        metric: combined('SUM', everyNode('Evictions', 'Sum'), 'Evictions'),
        threshold: t.cacheEvictionsPer5Min,
        what: `The cache evicted more than ${t.cacheEvictionsPer5Min} keys in 5 minutes.`,
        why: 'The cache is out of memory: cached responses are being dropped (spend counters and rate state carry no TTL, so volatile-lru keeps them).',
        runbook: 'cache-evictions',
      },
      {
        id: 'CacheMemory',
        metric: combined('MAX', everyNode('DatabaseMemoryUsagePercentage', 'Maximum'), 'Memory used (%)'),
        threshold: t.cacheMemoryPercent,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        what: `A cache node used ${t.cacheMemoryPercent}% or more of its memory.`,
        why: 'Near its limit the cache evicts cached answers; once only keys without a TTL are left (spend counters, rate state, pending entries) writes fail and limits fall back to the store fallback policy.',
        runbook: 'cache-memory',
      },
    ],
    row: [
      graph('Cache', [
        metrics.stageMetric(GatewayMetric.cacheHits, 'Sum'),
        metrics.stageMetric(GatewayMetric.cacheMisses, 'Sum'),
        metrics.stageMetric(GatewayMetric.storeErrors, 'Sum'),
      ]),
      graph('Store fallback: admissions while Redis cannot answer', [
        metrics.stageMetric(GatewayMetric.fallbackAdmissions, 'Sum'),
        metrics.stageMetric(GatewayMetric.storeErrors, 'Sum'),
      ]),
    ],
  };
}
