import { SettingsProblems, isIntegerIn } from '../settings';

/**
 * Alarm thresholds of one stage: `StageConfig.alarms`. Named so a stage's delta can override one
 * without repeating the others.
 */
export interface AlarmThresholds {
  /** ALB p99 target response time over 5 minutes, seconds (non-streamed completions can take long). */
  readonly albTargetP99Seconds: number;
  /** ALB-generated 5xx as a percent of requests over 5 minutes. */
  readonly alb5xxPercent: number;
  /** Target (gateway) 5xx as a percent of requests over 5 minutes. */
  readonly target5xxPercent: number;
  /** Gateway upstream latency p99 over 5 minutes, ms. */
  readonly upstreamLatencyP99Ms: number;
  /** Gateway time to first token p99 over 5 minutes, ms. */
  readonly timeToFirstTokenP99Ms: number;
  /** Minutes out of the last 5 in which the canary failed or did not report. */
  readonly canaryFailedMinutesOf5: number;
  /** Canary time to first token (p90 over 5 minutes), ms. */
  readonly canaryTimeToFirstTokenMs: number;
  /** Canary Responses time to first `response.output_text.delta` (p90 over 5 minutes), ms. */
  readonly canaryResponsesTimeToFirstTokenMs: number;
  /** Upstream 429s as a percent of gateway requests over 5 minutes. */
  readonly upstream429Percent: number;
  /** Redis command failures and circuit-open requests in 5 minutes. */
  readonly cacheErrorsPer5Min: number;
  /** Admissions the store fallback decided in 5 minutes, in 2 of 2 periods (above it: Redis has been out for 10 minutes). */
  readonly fallbackAdmissionsPer5Min: number;
  /** Failed spend ledger writes in 5 minutes, in 3 of 3 periods (each failed write is retried at the next flush). */
  readonly ledgerWriteErrorsPer5Min: number;
  /** Failed spend ledger reads in 5 minutes (a read happens only when Redis is empty or out). */
  readonly ledgerReadErrorsPer5Min: number;
  /** The spend ledger table's system errors and throttled requests in 5 minutes, in 2 of 3 periods. */
  readonly spendLedgerTableErrorsPer5Min: number;
  /** `/v1` requests the gateway shed (503 gateway_overloaded) in 5 minutes, in 2 of 3 periods. */
  readonly shedPer5Min: number;
  /** Keys evicted for lack of memory across the cache nodes in 5 minutes. */
  readonly cacheEvictionsPer5Min: number;
  /** Cache memory used, percent of the node's maxmemory, on the fullest node (5-minute maximum). */
  readonly cacheMemoryPercent: number;
  /** ECS service average CPU percent, 3 periods of 5 minutes. */
  readonly ecsCpuPercent: number;
  /** ECS service average memory percent, 3 periods of 5 minutes. */
  readonly ecsMemoryPercent: number;
  /** Unhealthy targets, 3 minutes in a row. */
  readonly unhealthyTargets: number;
  /** Errors of one Lambda handler in 5 minutes. */
  readonly lambdaErrorsPer5Min: number;
  /** Throttles of one Lambda handler in 5 minutes. */
  readonly lambdaThrottlesPer5Min: number;
  /** Hourly spend reconciliation runs in a row that failed (an integer from 1 to 24). */
  readonly reconciliationFailedHours: number;
  /** OpenAI's month-to-date cost above the gateway's metered spend, percent of the stage's monthly budget, two hours running. */
  readonly spendDriftPercentOfBudget: number;
}

/** What `lib/config/base.ts` starts every stage from. */
export const DEFAULT_ALARM_THRESHOLDS: AlarmThresholds = {
  albTargetP99Seconds: 30,
  alb5xxPercent: 1,
  target5xxPercent: 5,
  upstreamLatencyP99Ms: 30_000,
  timeToFirstTokenP99Ms: 5_000,
  canaryFailedMinutesOf5: 3,
  canaryTimeToFirstTokenMs: 3_000,
  // The Responses call streams its text after response.created and in_progress: the same bound.
  canaryResponsesTimeToFirstTokenMs: 3_000,
  upstream429Percent: 5,
  cacheErrorsPer5Min: 10,
  // Above these (strictly): any fallback admission for 10 minutes, any failed write for 15, any failed read.
  fallbackAdmissionsPer5Min: 0,
  ledgerWriteErrorsPer5Min: 0,
  ledgerReadErrorsPer5Min: 0,
  // At or above: the SDK retries a lone throttle or 500; errors in 10 of 15 minutes are the table's.
  spendLedgerTableErrorsPer5Min: 1,
  cacheEvictionsPer5Min: 100,
  cacheMemoryPercent: 80,
  // A burst shed for a sample or two is the check working; shedding for 10 of 15 minutes is missing capacity.
  shedPer5Min: 100,
  ecsCpuPercent: 85,
  ecsMemoryPercent: 85,
  unhealthyTargets: 1,
  lambdaErrorsPer5Min: 1,
  lambdaThrottlesPer5Min: 1,
  // One failed run is usually a costs API blip the next run fixes; three in a row is a broken key or an outage.
  reconciliationFailedHours: 3,
  spendDriftPercentOfBudget: 5,
};

/**
 * Records every problem of `thresholds`: each must be a finite number of at least 0,
 * `canaryFailedMinutesOf5` a whole number of minutes from 1 to 5 and `reconciliationFailedHours` of
 * hours from 1 to 24 (a CloudWatch alarm evaluates at most a day of hourly periods).
 */
export function checkAlarmThresholds(thresholds: AlarmThresholds, problems: SettingsProblems): void {
  for (const name of Object.keys(DEFAULT_ALARM_THRESHOLDS) as (keyof AlarmThresholds)[]) {
    const value = thresholds[name];
    problems.expect(
      Number.isFinite(value) && value >= 0,
      () => `${problems.field(name)} must be a finite number of at least 0, got ${value}`,
    );
  }
  const minutes = thresholds.canaryFailedMinutesOf5;
  problems.expect(
    isIntegerIn(minutes, 1, 5),
    () => `${problems.field('canaryFailedMinutesOf5')} must be an integer from 1 to 5, got ${minutes}`,
  );
  const hours = thresholds.reconciliationFailedHours;
  problems.expect(
    isIntegerIn(hours, 1, 24),
    () => `${problems.field('reconciliationFailedHours')} must be an integer from 1 to 24, got ${hours}`,
  );
}
