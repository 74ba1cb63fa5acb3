import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { utcMonthStart } from '../../runtime/clock';
import { HandlerEnv } from '../../runtime/handler-env';
import { ReconciliationMetric } from '../../runtime/metric-names';
import { createOpenAIClient } from '../../runtime/openai-client';
import type { HandlerTools } from '../../runtime/powertools';
import { requiredEnv } from '../shared/env';
import { describeFailure, type FailureCause } from '../shared/failure';
import { readProjectCosts, roundUsd } from './costs';
import { readMeteredSpend } from './metered-spend';

export interface ReconciliationResult {
  readonly success: boolean;
  readonly cause?: FailureCause;
  /** OpenAI's month-to-date cost of the project, USD. */
  readonly actualSpendUsd?: number;
  /** The gateway's metered month-to-date spend, USD; absent when it reported nothing recently. */
  readonly meteredSpendUsd?: number;
  /** actual - metered, USD. */
  readonly driftUsd?: number;
}

export interface ReconciliationDeps extends HandlerTools {
  /** The CloudWatch client, created on first use. */
  readonly cloudwatch: () => Promise<CloudWatchClient>;
}

/**
 * Reads the project's month-to-date cost from OpenAI and compares it with the gateway's metered spend.
 * Never throws: a missing or invalid admin key, an API error or a malformed response is one log line and
 * `ReconciliationFailure` = 1, so an hourly schedule does not become a crash loop.
 */
export async function reconcileSpend(deps: ReconciliationDeps): Promise<ReconciliationResult> {
  const { logger, metrics, stage } = deps;
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
  metrics.addMetric(ReconciliationMetric.failure, MetricUnit.Count, 0);
  metrics.addMetric(ReconciliationMetric.actualSpendUsd, MetricUnit.NoUnit, actualSpendUsd);

  try {
    const metered = await readMeteredSpend(await deps.cloudwatch(), stage, monthStart, now);
    if (!metered) {
      logger.warn('no MonthToDateSpendUsd from the gateway in the lookback window; drift not published');
      return { success: true, actualSpendUsd };
    }
    const driftUsd = roundUsd(actualSpendUsd - metered.usd);
    metrics.addMetric(ReconciliationMetric.spendDriftUsd, MetricUnit.NoUnit, driftUsd);
    logger.info('spend reconciled', {
      actualSpendUsd,
      meteredSpendUsd: metered.usd,
      meteredAt: metered.at.toISOString(),
      driftUsd,
    });
    return { success: true, actualSpendUsd, meteredSpendUsd: metered.usd, driftUsd };
  } catch (err) {
    const name = err instanceof Error ? err.name : 'Error';
    const detail = err instanceof Error ? err.message : String(err);
    logger.error('could not read the gateway metered spend from CloudWatch; drift not published', {
      name,
      detail,
    });
    return { success: true, actualSpendUsd };
  }
}
