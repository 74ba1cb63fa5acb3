import { Pool } from 'undici';
import { quantile } from './stats';

/** One request the load generator sends. */
export interface BenchRequest {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
}

/** What one request did, as the caller saw it. */
export interface RequestOutcome {
  readonly status: number;
  /** Time to the first body byte, ms. */
  readonly ttfbMs: number;
  /** Time to the last body byte, ms. */
  readonly totalMs: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The body, when the caller asked to keep it. */
  readonly body?: string;
}

/** Summary of a closed-loop run. */
export interface LoadResult {
  readonly concurrency: number;
  readonly durationMs: number;
  /** Completed requests with a 2xx status. */
  readonly ok: number;
  /** Requests with another status or a transport error. */
  readonly failed: number;
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly ttfbP50Ms: number;
  readonly ttfbP99Ms: number;
  /** Count of each `x-cache-status` value seen (HIT, MISS, BYPASS, or "none"). */
  readonly cacheStatus: Readonly<Record<string, number>>;
  /** Count of each HTTP status seen ("error" for transport errors). */
  readonly statuses: Readonly<Record<string, number>>;
}

/** A keep-alive connection pool to one target, sized to the concurrency it serves. */
export function openPool(origin: string, connections: number): Pool {
  return new Pool(origin, {
    connections,
    pipelining: 1,
    keepAliveTimeout: 60_000,
    keepAliveMaxTimeout: 120_000,
    headersTimeout: 30_000,
    bodyTimeout: 30_000,
  });
}

/** Sends one request and reads the whole body, timing the first and last body bytes. */
export async function sendOnce(pool: Pool, request: BenchRequest, keepBody = false): Promise<RequestOutcome> {
  const start = performance.now();
  const res = await pool.request({
    method: request.method,
    path: request.path,
    headers: request.headers,
    body: request.body,
  });
  let ttfb = Number.NaN;
  const chunks: Buffer[] = [];
  for await (const chunk of res.body) {
    if (Number.isNaN(ttfb)) ttfb = performance.now() - start;
    if (keepBody) chunks.push(chunk as Buffer);
  }
  const total = performance.now() - start;
  return {
    status: res.statusCode,
    ttfbMs: Number.isNaN(ttfb) ? total : ttfb,
    totalMs: total,
    headers: res.headers,
    ...(keepBody ? { body: Buffer.concat(chunks).toString('utf8') } : {}),
  };
}

export interface ClosedLoopOptions {
  readonly pool: Pool;
  readonly concurrency: number;
  readonly durationMs: number;
  /** Builds the i-th request of the run (vary it to defeat or to exercise a cache). */
  readonly request: (i: number) => BenchRequest;
}

/**
 * Closed-loop load: `concurrency` callers each send a request, wait for the whole response, and send
 * the next, until `durationMs` has passed. Latency is measured per request, so p99 is exact.
 */
export async function closedLoop(options: ClosedLoopOptions): Promise<LoadResult> {
  const { pool, concurrency, durationMs } = options;
  const latencies: number[] = [];
  const ttfbs: number[] = [];
  const cacheStatus: Record<string, number> = {};
  const statuses: Record<string, number> = {};
  let ok = 0;
  let failed = 0;
  let next = 0;
  const start = performance.now();
  const end = start + durationMs;
  let lastDone = start;

  const caller = async (): Promise<void> => {
    while (performance.now() < end) {
      const i = next++;
      try {
        const outcome = await sendOnce(pool, options.request(i));
        lastDone = performance.now();
        statuses[outcome.status] = (statuses[outcome.status] ?? 0) + 1;
        const cache = String(outcome.headers['x-cache-status'] ?? 'none');
        cacheStatus[cache] = (cacheStatus[cache] ?? 0) + 1;
        if (outcome.status >= 200 && outcome.status < 300) {
          ok++;
          latencies.push(outcome.totalMs);
          ttfbs.push(outcome.ttfbMs);
        } else {
          failed++;
        }
      } catch {
        failed++;
        statuses.error = (statuses.error ?? 0) + 1;
        // A refused connection fails instantly; do not spin.
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, caller));
  const elapsed = lastDone - start;
  return {
    concurrency,
    durationMs: elapsed,
    ok,
    failed,
    rps: (ok * 1000) / elapsed,
    p50Ms: quantile(latencies, 0.5),
    p99Ms: quantile(latencies, 0.99),
    ttfbP50Ms: quantile(ttfbs, 0.5),
    ttfbP99Ms: quantile(ttfbs, 0.99),
    cacheStatus,
    statuses,
  };
}

export interface FixedRateOptions {
  readonly pool: Pool;
  /** Requests started per second, whatever the answers (open loop, like many independent callers). */
  readonly ratePerSecond: number;
  readonly durationMs: number;
  readonly request: (i: number) => BenchRequest;
}

/** Open-loop load at a fixed arrival rate; returns every outcome (transport errors as status 0). */
export async function fixedRate(options: FixedRateOptions): Promise<RequestOutcome[]> {
  const count = Math.round((options.ratePerSecond * options.durationMs) / 1000);
  const intervalMs = 1000 / options.ratePerSecond;
  const start = performance.now();
  const pending: Promise<RequestOutcome>[] = [];
  for (let i = 0; i < count; i++) {
    const due = start + i * intervalMs;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    pending.push(
      sendOnce(options.pool, options.request(i), true).catch((): RequestOutcome => ({
        status: 0,
        ttfbMs: Number.NaN,
        totalMs: Number.NaN,
        headers: {},
      })),
    );
  }
  return Promise.all(pending);
}
