import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { utcMonth, utcMonthStart } from '../../runtime/clock';
import { HandlerEnv } from '../../runtime/handler-env';
import { ReconciliationMetric } from '../../runtime/metric-names';
import { createOpenAIClient } from '../../runtime/openai-client';
import type { HandlerTools } from '../../runtime/powertools';
import { usdToNanos } from '../../runtime/pricing';
import { requiredEnv } from '../shared/env';
import { describeFailure, type FailureCause } from '../shared/failure';
import { readProjectCosts, roundUsd } from './costs';
import { raiseBilledSpend, type LedgerRaise } from './ledger';
import { readMeteredSpend } from './metered-spend';

/**
 * What reconciliation did to the spend ledger: raised `billedNanos`, found it already as high, had no
 * ledger to write (`SPEND_LEDGER_TABLE` unset: local runs), or failed to write.
 */
export type LedgerOutcome = LedgerRaise | 'skipped' | 'failed';

export interface ReconciliationResult {
  readonly success: boolean;
  readonly cause?: FailureCause;
  /** OpenAI's month-to-date cost of the project, USD. */
  readonly actualSpendUsd?: number;
  /** The gateway's metered month-to-date spend, USD; absent when it reported nothing recently. */
  readonly meteredSpendUsd?: number;
  /** actual - metered, USD. */
  readonly driftUsd?: number;
  /** Absent when the costs could not be read (nothing to raise the ledger to). */
  readonly ledger?: LedgerOutcome;
}

export interface ReconciliationDeps extends HandlerTools {
  /** The CloudWatch client, created on first use. */
  readonly cloudwatch: () => Promise<CloudWatchClient>;
  /** The DynamoDB client of the spend ledger, created on first use. */
  readonly dynamodb: () => Promise<DynamoDBClient>;
}

/**
 * Reads the project's month-to-date cost from OpenAI, raises the spend ledger's billed spend to it,
 * and compares it with the gateway's metered spend. Never throws: a missing or invalid admin key, an
 * API error, a malformed response or a failed ledger write is one log line and
 * `ReconciliationFailure` = 1, so an hourly schedule does not become a crash loop.
 */
export async function reconcileSpend(deps: ReconciliationDeps): Promise<ReconciliationResult> {
  const { logger, metrics } = deps;
  const now = new Date(deps.clock());
  // OpenAI's costs API bills by UTC month, as the gateway's budgets do.
  const monthStart = new Date(utcMonthStart(now.getTime()));

  let actualSpendUsd: number;
  try {
    const project = requiredEnv(HandlerEnv.openaiProject);
    const admin = await createOpenAIClient({ kind: 'admin', timeoutMs: 30_000, maxRetries: 2 });
    const costs = await readProjectCosts(
      admin,
      project,
      Math.floor(monthStart.getTime() / 1000),
      Math.ceil(now.getTime() / 1000),
    );
    actualSpendUsd = costs.totalUsd;
    logger.info('read month-to-date costs', {
      project,
      actualSpendUsd,
      pages: costs.pages,
      buckets: costs.buckets,
    });
  } catch (err) {
    const failure = describeFailure(err);
    const hint =
      failure.cause === 'secret' || failure.cause === 'auth'
        ? 'put a valid organization admin key in the admin key secret'
        : undefined;
    logger.error('spend reconciliation could not read costs', { ...failure, ...(hint ? { hint } : {}) });
    metrics.addMetric(ReconciliationMetric.failure, MetricUnit.Count, 1);
    return { success: false, cause: failure.cause };
  }
  // The ledger is raised before any metric is stored, so ReconciliationFailure is stored once.
  const ledger = await raiseLedger(deps, utcMonth(now.getTime()), actualSpendUsd);
  metrics.addMetric(ReconciliationMetric.failure, MetricUnit.Count, ledger.failure ? 1 : 0);
  metrics.addMetric(ReconciliationMetric.actualSpendUsd, MetricUnit.NoUnit, actualSpendUsd);
  const drift = await publishDrift(deps, actualSpendUsd, monthStart, now);
  return {
    success: ledger.failure === undefined,
    ...(ledger.failure ? { cause: ledger.failure } : {}),
    actualSpendUsd,
    ...drift,
    ledger: ledger.outcome,
  };
}

/**
 * Raises the ledger's billed spend of `month` to OpenAI's figure, when the stage has a ledger. A
 * failure is logged and returned, not thrown: the metrics are still published, and the next hourly
 * run raises it (the figure only grows).
 */
async function raiseLedger(
  deps: ReconciliationDeps,
  month: string,
  actualSpendUsd: number,
): Promise<{ readonly outcome: LedgerOutcome; readonly failure?: FailureCause }> {
  const table = process.env[HandlerEnv.spendLedgerTable];
  if (!table) return { outcome: 'skipped' };
  const billedNanos = usdToNanos(actualSpendUsd);
  try {
    const outcome = await raiseBilledSpend({ dynamodb: await deps.dynamodb(), table, month, billedNanos });
    deps.logger.info('spend ledger billed spend', { month, billedNanos, outcome });
    return { outcome };
  } catch (err) {
    const failure = describeFailure(err);
    const name = err instanceof Error ? err.name : 'Error';
    deps.logger.error('spend reconciliation could not raise the spend ledger', {
      ...failure,
      name,
      month,
      billedNanos,
    });
    return { outcome: 'failed', failure: failure.cause };
  }
}

/** Publishes SpendDriftUsd against the gateway's metered spend; a CloudWatch error is logged, not a failure. */
async function publishDrift(
  deps: ReconciliationDeps,
  actualSpendUsd: number,
  monthStart: Date,
  now: Date,
): Promise<{ readonly meteredSpendUsd?: number; readonly driftUsd?: number }> {
  const { logger, metrics, stage } = deps;
  try {
    const metered = await readMeteredSpend(await deps.cloudwatch(), stage, monthStart, now);
    if (!metered) {
      logger.warn('no MonthToDateSpendUsd from the gateway in the lookback window; drift not published');
      return {};
    }
    const driftUsd = roundUsd(actualSpendUsd - metered.usd);
    metrics.addMetric(ReconciliationMetric.spendDriftUsd, MetricUnit.NoUnit, driftUsd);
    logger.info('spend reconciled', {
      actualSpendUsd,
      meteredSpendUsd: metered.usd,
      meteredAt: metered.at.toISOString(),
      driftUsd,
    });
    return { meteredSpendUsd: metered.usd, driftUsd };
  } catch (err) {
    const name = err instanceof Error ? err.name : 'Error';
    const detail = err instanceof Error ? err.message : String(err);
    logger.error('could not read the gateway metered spend from CloudWatch; drift not published', {
      name,
      detail,
    });
    return {};
  }
}
