import { openPool, sendOnce, type RequestOutcome } from '../lib/load';
import { budgetConfig } from '../lib/gateway-configs';
import { chatRequest } from '../lib/requests';
import { median } from '../lib/stats';
import { startGateway } from '../lib/stack';
import type { BenchContext } from './context';

/** Requests the budget holds. */
export const BUDGET_FITS = 10;
/** Requests sent at once. */
export const BUDGET_CONCURRENCY = 50;
/** Completion tokens each request asks for (fewer than the fake's answer has, so it returns exactly this many). */
const COMPLETION_TOKENS = 8;

export interface BudgetRun {
  readonly served: number;
  readonly refusedInsufficientQuota: number;
  readonly otherStatuses: Readonly<Record<string, number>>;
  /** Served requests beyond what the budget holds (0 when within budget). */
  readonly overshootRequests: number;
  /** A request sent after the wave settled: refused, as the budget is spent? */
  readonly refusedAfterwards: boolean;
}

export interface BudgetFigure {
  readonly fits: number;
  readonly concurrency: number;
  readonly served: number;
  /** Median over repetitions. */
  readonly overshootRequests: number;
  /** Worst repetition. */
  readonly overshootWorstRequests: number;
  readonly runs: readonly BudgetRun[];
}

/**
 * Figure 4: 50 requests at once against a monthly budget that fits exactly 10. Each repetition starts
 * a gateway on a fresh stage (fresh Redis counters). The 50 connections are opened first, so the
 * requests reach the gateway together.
 */
export async function runBudget(
  ctx: BenchContext,
  log: (line: string) => void,
): Promise<BudgetFigure | undefined> {
  if (!ctx.bundles.gateway) return undefined;
  const runs: BudgetRun[] = [];
  for (let rep = 0; rep < ctx.settings.repetitions; rep++) {
    const stage = `bench-budget-${ctx.runTag}-${rep}`.slice(0, 32);
    const { config } = budgetConfig(stage, `${ctx.runTag}b${rep}`, BUDGET_FITS, COMPLETION_TOKENS);
    const gateway = await startGateway({
      bundle: ctx.bundles.gateway,
      config,
      upstreamOrigin: ctx.upstream.origin,
      redisUrl: ctx.redis.url,
      workDir: ctx.workDir,
      label: `budget-${rep}`,
    });
    const pool = openPool(gateway.origin, BUDGET_CONCURRENCY);
    try {
      // Open every connection before the wave.
      await Promise.all(
        Array.from({ length: BUDGET_CONCURRENCY }, () =>
          sendOnce(pool, { method: 'GET', path: '/healthz', headers: {} }),
        ),
      );
      const request = (i: number) =>
        chatRequest({
          key: 'gateway',
          content: `Budget ${ctx.runTag}-${rep}-${i}`,
          temperature: 0.7, // not cacheable: every request costs
          maxTokens: COMPLETION_TOKENS,
        });
      const outcomes: RequestOutcome[] = await Promise.all(
        Array.from({ length: BUDGET_CONCURRENCY }, (_, i) =>
          sendOnce(pool, request(i), true).catch((): RequestOutcome => ({
            status: 0,
            ttfbMs: Number.NaN,
            totalMs: Number.NaN,
            headers: {},
          })),
        ),
      );
      await new Promise((resolve) => setTimeout(resolve, 300)); // settlement runs off the response path
      const after = await sendOnce(pool, request(BUDGET_CONCURRENCY), true);
      const served = outcomes.filter((o) => o.status === 200);
      const wrongUsage = served.filter((o) => usageCompletionTokens(o.body) !== COMPLETION_TOKENS).length;
      if (wrongUsage > 0)
        log(`  warning: ${wrongUsage} responses did not report ${COMPLETION_TOKENS} completion tokens`);
      const refused = outcomes.filter((o) => o.status === 429 && errorCode(o.body) === 'insufficient_quota');
      const other: Record<string, number> = {};
      for (const o of outcomes) {
        if (o.status === 200 || refused.includes(o)) continue;
        other[o.status] = (other[o.status] ?? 0) + 1;
      }
      const run: BudgetRun = {
        served: served.length,
        refusedInsufficientQuota: refused.length,
        otherStatuses: other,
        overshootRequests: Math.max(0, served.length - BUDGET_FITS),
        refusedAfterwards: after.status === 429,
      };
      runs.push(run);
      log(
        `  rep ${rep + 1} served ${run.served}/${BUDGET_CONCURRENCY}, refused ${run.refusedInsufficientQuota}, other ${JSON.stringify(other)}, next request ${after.status}`,
      );
    } finally {
      await pool.close();
      await gateway.process.stop();
    }
  }
  return {
    fits: BUDGET_FITS,
    concurrency: BUDGET_CONCURRENCY,
    served: median(runs.map((r) => r.served)),
    overshootRequests: median(runs.map((r) => r.overshootRequests)),
    overshootWorstRequests: Math.max(...runs.map((r) => r.overshootRequests)),
    runs,
  };
}

function parse(body: string | undefined): Record<string, unknown> | undefined {
  try {
    return JSON.parse(body ?? '') as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

function usageCompletionTokens(body: string | undefined): number | undefined {
  const usage = parse(body)?.usage as { completion_tokens?: number } | undefined;
  return usage?.completion_tokens;
}

export function errorMessage(body: string | undefined): string | undefined {
  const error = parse(body)?.error as { message?: string } | undefined;
  return error?.message;
}

export function errorCode(body: string | undefined): string | undefined {
  const error = parse(body)?.error as { code?: string } | undefined;
  return error?.code;
}
