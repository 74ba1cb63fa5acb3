import { fixedRate, openPool, sendOnce } from '../lib/load';
import { rateLimitConfig } from '../lib/gateway-configs';
import { chatRequest } from '../lib/requests';
import { median, round } from '../lib/stats';
import { startGateway, startRateLimitedUpstream } from '../lib/stack';
import type { BenchContext } from './context';
import { errorCode, errorMessage } from './budget';

/** How the gateway's own limiter words its 429 (service/errors.ts `rateLimited`); relayed upstream 429s differ. */
const LOCAL_LIMIT_MESSAGE = 'Rate limit reached for ';

export interface RateLimitRun {
  readonly offered: number;
  readonly served: number;
  /** 429s the gateway answered callers with. */
  readonly callers429: number;
  /** Of those, refused by the gateway's own limiter (its message), without calling upstream. */
  readonly callers429Local: number;
  /** Of those, how many carried `Retry-After`. */
  readonly callers429WithRetryAfter: number;
  /** Other caller statuses (5xx, transport errors as 0). */
  readonly otherStatuses: Readonly<Record<string, number>>;
  /** 429s the upstream answered the gateway with (retries included). */
  readonly upstream429s: number;
  /** Requests the upstream served. */
  readonly upstreamServed: number;
  /** Most the upstream could serve from the first request to the last answer: its burst plus its rate. */
  readonly upstreamCapacity: number;
  /** From the first request to the last answer (later than the window when the gateway waits to retry). */
  readonly elapsedMs: number;
  /** p50 latency of the served requests, ms (includes the gateway's retry waits). */
  readonly servedP50Ms: number;
  readonly servedP99Ms: number;
}

export interface RateLimitFigure {
  readonly rpm: number;
  readonly offeredPerSecond: number;
  readonly durationMs: number;
  /** Served / offered. */
  readonly servedShare: number;
  /** Served / what the upstream could serve: 1 means no capacity lost to the gateway. */
  readonly goodputOfCapacity: number;
  readonly upstream429s: number;
  /** Callers' 429s from the gateway's own limiter (median). */
  readonly callers429Local: number;
  /** Callers' 429s relayed from the upstream after retries (median). */
  readonly callers429Relayed: number;
  /** Share of the callers' 429s that carried Retry-After. */
  readonly retryAfterShare: number;
  readonly runs: readonly RateLimitRun[];
}

/**
 * Figure 5: the upstream enforces R requests per minute (quantized per second, as OpenAI documents),
 * the gateway's client and stage limits are R too, and callers offer more than R at a fixed rate for
 * a few seconds. Callers do not retry; the gateway retries upstream 429s as configured (2 retries,
 * honouring Retry-After up to 10 s).
 */
export async function runRateLimit(
  ctx: BenchContext,
  log: (line: string) => void,
): Promise<RateLimitFigure | undefined> {
  if (!ctx.bundles.gateway) return undefined;
  const { rateLimitRpm: rpm, rateLimitLoadFactor, rateLimitRunMs: durationMs } = ctx.settings;
  const offeredPerSecond = (rpm / 60) * rateLimitLoadFactor;
  const runs: RateLimitRun[] = [];
  for (let rep = 0; rep < ctx.settings.repetitions; rep++) {
    const limited = await startRateLimitedUpstream(ctx.bundles.rateLimitedUpstream, ctx.upstream.origin, rpm);
    const stage = `bench-rl-${ctx.runTag}-${rep}`.slice(0, 32);
    let gateway;
    try {
      gateway = await startGateway({
        bundle: ctx.bundles.gateway,
        config: rateLimitConfig(stage, `${ctx.runTag}r${rep}`, rpm),
        upstreamOrigin: limited.origin,
        redisUrl: ctx.redis.url,
        workDir: ctx.workDir,
        label: `rate-limit-${rep}`,
      });
      const pool = openPool(gateway.origin, 256);
      const started = performance.now();
      try {
        const outcomes = await fixedRate({
          pool,
          ratePerSecond: offeredPerSecond,
          durationMs,
          request: (i) =>
            chatRequest({
              key: 'gateway',
              content: `Limited ${ctx.runTag}-${rep}-${i}`,
              temperature: 0.7,
              maxTokens: 16,
            }),
        });
        const elapsedS = (performance.now() - started) / 1000;
        const statsPool = openPool(limited.origin, 1);
        const stats = JSON.parse(
          (await sendOnce(statsPool, { method: 'GET', path: '/__bench/stats', headers: {} }, true)).body ??
            '{}',
        ) as { forwarded: number; refused: number };
        await statsPool.close();
        const served = outcomes.filter((o) => o.status === 200);
        const refused = outcomes.filter((o) => o.status === 429);
        const other: Record<string, number> = {};
        for (const o of outcomes) {
          if (o.status !== 200 && o.status !== 429) other[o.status] = (other[o.status] ?? 0) + 1;
        }
        const codes: Record<string, number> = {};
        for (const o of refused)
          codes[errorCode(o.body) ?? 'none'] = (codes[errorCode(o.body) ?? 'none'] ?? 0) + 1;
        const latencies = served.map((o) => o.totalMs).sort((a, b) => a - b);
        const run: RateLimitRun = {
          offered: outcomes.length,
          served: served.length,
          callers429: refused.length,
          callers429Local: refused.filter((o) => errorMessage(o.body)?.startsWith(LOCAL_LIMIT_MESSAGE))
            .length,
          callers429WithRetryAfter: refused.filter((o) => o.headers['retry-after'] !== undefined).length,
          otherStatuses: other,
          upstream429s: stats.refused,
          upstreamServed: stats.forwarded,
          upstreamCapacity: Math.floor(Math.max(1, rpm / 60) + (rpm / 60) * elapsedS),
          elapsedMs: elapsedS * 1000,
          servedP50Ms: latencies[Math.floor(latencies.length * 0.5)] ?? Number.NaN,
          servedP99Ms:
            latencies[Math.min(latencies.length - 1, Math.ceil(latencies.length * 0.99) - 1)] ?? Number.NaN,
        };
        runs.push(run);
        log(
          `  rep ${rep + 1} offered ${run.offered}, served ${run.served}, caller 429s ${run.callers429} (${run.callers429Local} by the gateway's limiter, ${run.callers429WithRetryAfter} with Retry-After, codes ${JSON.stringify(codes)}), other ${JSON.stringify(other)}, upstream 429s ${run.upstream429s}, upstream served ${run.upstreamServed} of capacity ~${run.upstreamCapacity}, served p50 ${round(run.servedP50Ms)} ms`,
        );
      } finally {
        await pool.close();
      }
    } finally {
      await gateway?.process.stop();
      await limited.process.stop();
    }
  }
  return {
    rpm,
    offeredPerSecond,
    durationMs,
    servedShare: median(runs.map((r) => r.served / r.offered)),
    goodputOfCapacity: median(runs.map((r) => r.served / r.upstreamCapacity)),
    upstream429s: median(runs.map((r) => r.upstream429s)),
    callers429Local: median(runs.map((r) => r.callers429Local)),
    callers429Relayed: median(runs.map((r) => r.callers429 - r.callers429Local)),
    retryAfterShare: median(
      runs.map((r) => (r.callers429 === 0 ? 1 : r.callers429WithRetryAfter / r.callers429)),
    ),
    runs,
  };
}
