import { readFileSync } from 'node:fs';
import { openPool, sendOnce, type RequestOutcome } from '../lib/load';
import { overloadConfig } from '../lib/gateway-configs';
import { chatRequest } from '../lib/requests';
import { median } from '../lib/stats';
import { startGateway, startRateLimitedUpstream } from '../lib/stack';
import type { BenchContext } from './context';
import { errorCode } from './budget';
import { GatewayMetric } from '../../runtime/metric-names';
import { stageMetricSum } from '../../test/support/gateway-process';

/** Connections of the overload figure: the throughput figure's highest, and the 200. */
export const OVERLOAD_CONCURRENCIES = [50, 200] as const;
/** The client's limit: 600 a minute, the measurement. */
export const OVERLOAD_RPM = 600;
/** Requests offered per run, closed loop: three times the limit. */
const OFFERED = 3 * OVERLOAD_RPM;
/** The upstream counts what it forwards and never refuses. */
const UNLIMITED_UPSTREAM_RPM = 1_000_000_000;

export interface OverloadRun {
  readonly offered: number;
  /** Requests the upstream served: what the gateway admitted. */
  readonly upstreamServed: number;
  /** The limit plus what its bucket refilled during the run (600/min: 10 a second). */
  readonly allowed: number;
  readonly callers429: number;
  /** 503 `gateway_overloaded`. */
  readonly shed: number;
  readonly shedWithRetryAfter: number;
  /** Other caller statuses (transport errors as 0). */
  readonly otherStatuses: Readonly<Record<string, number>>;
  /** `StoreErrors` of the gateway's stage EMF lines: Redis failures and requests the fallback answered. */
  readonly storeErrors: number;
  /** `FallbackAdmissions` of the same lines: requests admitted by the store fallback instead of Redis. */
  readonly fallbackAdmissions: number;
  readonly elapsedMs: number;
}

export interface OverloadFigure {
  readonly concurrency: number;
  readonly rpm: number;
  readonly offered: number;
  /** Medians over repetitions. */
  readonly upstreamServed: number;
  readonly allowed: number;
  readonly shed: number;
  /** Share of shed answers that carried Retry-After (1 when none was shed). */
  readonly shedRetryAfterShare: number;
  /** The most any repetition counted. */
  readonly storeErrors: number;
  /** The most any repetition counted. */
  readonly fallbackAdmissions: number;
  /** The largest share any repetition admitted beyond `allowed`, in % (0 when within). */
  readonly overAdmittedPercent: number;
  readonly runs: readonly OverloadRun[];
}

/**
 * Figure 8: one gateway replica, Redis healthy, `c` connections in a closed loop offering three times
 * a client's 600/min limit. Before load shedding and loop-aware command timeouts, at c=200 the
 * starved loop fired the 50 ms Redis timeouts, the circuit opened and the fallback admitted 1,348.
 */
export async function runOverload(
  ctx: BenchContext,
  log: (line: string) => void,
): Promise<OverloadFigure[] | undefined> {
  if (!ctx.bundles.gateway) return undefined;
  const figures: OverloadFigure[] = [];
  for (const concurrency of OVERLOAD_CONCURRENCIES) {
    const runs: OverloadRun[] = [];
    for (let rep = 0; rep < ctx.settings.repetitions; rep++) {
      const run = await overloadRun(ctx, concurrency, `${ctx.runTag}o${concurrency}r${rep}`);
      runs.push(run);
      log(
        `  rep ${rep + 1} c=${concurrency} offered ${run.offered}, upstream served ${run.upstreamServed} (limit ${OVERLOAD_RPM} + refill = ${run.allowed}), 429s ${run.callers429}, shed ${run.shed} (${run.shedWithRetryAfter} with Retry-After), other ${JSON.stringify(run.otherStatuses)}, store errors ${run.storeErrors}, fallback admissions ${run.fallbackAdmissions}`,
      );
    }
    figures.push({
      concurrency,
      rpm: OVERLOAD_RPM,
      offered: OFFERED,
      upstreamServed: median(runs.map((r) => r.upstreamServed)),
      allowed: median(runs.map((r) => r.allowed)),
      shed: median(runs.map((r) => r.shed)),
      shedRetryAfterShare: median(runs.map((r) => (r.shed === 0 ? 1 : r.shedWithRetryAfter / r.shed))),
      storeErrors: Math.max(...runs.map((r) => r.storeErrors)),
      fallbackAdmissions: Math.max(...runs.map((r) => r.fallbackAdmissions)),
      overAdmittedPercent: Math.max(
        ...runs.map((r) => Math.max(0, (r.upstreamServed / r.allowed - 1) * 100)),
      ),
      runs,
    });
  }
  return figures;
}

async function overloadRun(ctx: BenchContext, concurrency: number, tag: string): Promise<OverloadRun> {
  const counting = await startRateLimitedUpstream(
    ctx.bundles.rateLimitedUpstream,
    ctx.upstream.origin,
    UNLIMITED_UPSTREAM_RPM,
  );
  let gateway;
  try {
    gateway = await startGateway({
      bundle: ctx.bundles.gateway!,
      config: overloadConfig(`bench-ov-${tag}`.slice(0, 32), tag, OVERLOAD_RPM, concurrency),
      upstreamOrigin: counting.origin,
      redisUrl: ctx.redis.url,
      workDir: ctx.workDir,
      label: `overload-${tag}`,
    });
    const pool = openPool(gateway.origin, concurrency);
    const outcomes: RequestOutcome[] = [];
    const started = performance.now();
    try {
      let next = 0;
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (next < OFFERED) {
            const request = chatRequest({
              key: 'gateway',
              content: `Overload ${tag}-${next++}`,
              temperature: 0.7,
              maxTokens: 16,
            });
            outcomes.push(
              await sendOnce(pool, request, true).catch(() => ({
                status: 0,
                ttfbMs: 0,
                totalMs: 0,
                headers: {},
              })),
            );
          }
        }),
      );
    } finally {
      await pool.close();
    }
    const elapsedMs = performance.now() - started;
    const stats = await upstreamStats(counting.origin);
    await gateway.process.stop();
    const shed = outcomes.filter((o) => o.status === 503 && errorCode(o.body) === 'gateway_overloaded');
    const other: Record<string, number> = {};
    for (const o of outcomes) {
      if (o.status !== 200 && o.status !== 429 && !shed.includes(o))
        other[o.status] = (other[o.status] ?? 0) + 1;
    }
    const log = readFileSync(gateway.logFile, 'utf8');
    return {
      offered: outcomes.length,
      upstreamServed: stats.forwarded,
      allowed: Math.floor(OVERLOAD_RPM + (OVERLOAD_RPM * elapsedMs) / 60_000),
      callers429: outcomes.filter((o) => o.status === 429).length,
      shed: shed.length,
      shedWithRetryAfter: shed.filter((o) => o.headers['retry-after'] !== undefined).length,
      otherStatuses: other,
      storeErrors: stageMetricSum(log, GatewayMetric.storeErrors),
      fallbackAdmissions: stageMetricSum(log, GatewayMetric.fallbackAdmissions),
      elapsedMs,
    };
  } finally {
    await gateway?.process.stop();
    await counting.process.stop();
  }
}

async function upstreamStats(origin: string): Promise<{ forwarded: number; refused: number }> {
  const pool = openPool(origin, 1);
  try {
    const res = await sendOnce(pool, { method: 'GET', path: '/__bench/stats', headers: {} }, true);
    return JSON.parse(res.body ?? '{}') as { forwarded: number; refused: number };
  } finally {
    await pool.close();
  }
}
