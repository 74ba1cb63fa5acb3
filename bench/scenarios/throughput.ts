import { closedLoop, openPool, sendOnce, type BenchRequest, type LoadResult } from '../lib/load';
import type { PinnedProcess } from '../lib/processes';
import { chatRequest, type KeyKind } from '../lib/requests';
import { median, round } from '../lib/stats';
import type { Target } from '../lib/stack';
import type { BenchContext } from './context';

export const CONCURRENCIES = [1, 10, 50] as const;

/** One measured closed-loop run of one target. */
export interface ThroughputRun {
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** CPU time of the target's own process per request, µs. */
  readonly cpuUsPerRequest: number;
  /** CPU time of every server process (upstream, proxy/gateway, Redis) per request, µs. */
  readonly serversCpuUsPerRequest: number;
  /** The same, per server process (by process name), µs. */
  readonly cpuUsPerRequestByProcess: Readonly<Record<string, number>>;
  /** Highest VmRSS of the target's process sampled during the run, MB. */
  readonly rssMaxMb: number;
  /** Share of its core the load generator used: near 1 means the generator, not the target, set the pace. */
  readonly loadGeneratorBusy: number;
  readonly ok: number;
  readonly failed: number;
  readonly cacheStatus: Readonly<Record<string, number>>;
  readonly statuses: Readonly<Record<string, number>>;
}

/** The median over repetitions of one target at one concurrency. */
export interface ThroughputFigure {
  readonly target: string;
  readonly concurrency: number;
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** p50 minus direct's p50 at the same concurrency, ms. */
  readonly addedP50Ms: number;
  readonly addedP99Ms: number;
  readonly cpuUsPerRequest: number;
  readonly serversCpuUsPerRequest: number;
  /** Median CPU µs per request of each server process. */
  readonly cpuUsPerRequestByProcess: Readonly<Record<string, number>>;
  readonly rssMaxMb: number;
  readonly loadGeneratorBusy: number;
  readonly runs: readonly ThroughputRun[];
}

export interface Subject {
  readonly name: string;
  readonly target: Target;
  /** Builds the i-th request of a series; every measured run uses a series of its own. */
  readonly request: (series: string, i: number) => BenchRequest;
  /** Called once before any measurement (e.g. to fill the cache). */
  readonly prepare?: () => Promise<void>;
}

/** Max completion tokens asked for: the fake upstream's answer is shorter, so every response is the same size. */
const MAX_TOKENS = 64;

/**
 * Figures 1 and 2: closed-loop non-streaming load at each concurrency through each target, targets
 * interleaved within every repetition. A gateway cache miss is a cacheable request (temperature 0)
 * with a prompt never sent before, so the gateway does everything a real miss does, including the
 * cache lookup and the write of the new entry; a non-cacheable temperature would skip both.
 */
export async function runThroughput(
  ctx: BenchContext,
  log: (line: string) => void,
): Promise<ThroughputFigure[]> {
  const subjects: Subject[] = [
    {
      name: 'direct',
      target: ctx.upstream,
      request: (series, i) => missRequest('upstream', `${series}-${i}`),
    },
    {
      name: 'minimal proxy',
      target: ctx.proxy,
      request: (series, i) => missRequest('upstream', `${series}-${i}`),
    },
  ];
  if (ctx.gateway) {
    const gateway = ctx.gateway;
    subjects.push({
      name: 'gateway (cache miss)',
      target: gateway,
      request: (series, i) => missRequest('gateway', `${series}-${i}`),
    });
    const hit = chatRequest({
      key: 'gateway',
      content: `${ctx.runTag} the repeated question`,
      temperature: 0,
      maxTokens: MAX_TOKENS,
    });
    subjects.push({
      name: 'gateway (cache hit)',
      target: gateway,
      request: () => hit,
      prepare: async () => {
        const pool = openPool(gateway.origin, 1);
        try {
          await sendOnce(pool, hit);
          await new Promise((resolve) => setTimeout(resolve, 200)); // the cache write is off the response path
        } finally {
          await pool.close();
        }
      },
    });
  }
  for (const s of subjects) await s.prepare?.();
  // One unmeasured second per target first, so the first measured runs do not pay for JIT compilation.
  for (const s of subjects) {
    const pool = openPool(s.target.origin, 10);
    try {
      await closedLoop({
        pool,
        concurrency: 10,
        durationMs: 1000,
        request: (i) => s.request(`${ctx.runTag}-jit`, i),
      });
    } finally {
      await pool.close();
    }
  }

  const servers = uniqueProcesses([
    ctx.upstream,
    ctx.proxy,
    ...(ctx.gateway ? [ctx.gateway] : []),
    ctx.redis,
  ]);
  const runs = new Map<string, ThroughputRun[]>();
  for (let rep = 0; rep < ctx.settings.repetitions; rep++) {
    for (const concurrency of CONCURRENCIES) {
      // Rotate the order each repetition so no target always runs first (or last) on a warm machine.
      const order = subjects.map((_, k) => subjects[(k + rep) % subjects.length]);
      for (const subject of order) {
        const run = await measure(
          ctx,
          subject,
          concurrency,
          servers,
          `${ctx.runTag}-r${rep}-c${concurrency}`,
        );
        const key = `${subject.name}@${concurrency}`;
        runs.set(key, [...(runs.get(key) ?? []), run]);
        log(
          `  rep ${rep + 1} c=${concurrency} ${subject.name.padEnd(22)} ${round(run.rps, 0)} rps, p50 ${round(run.p50Ms)} ms, p99 ${round(run.p99Ms)} ms, ${round(run.cpuUsPerRequest, 0)} µs CPU/req, generator ${round(run.loadGeneratorBusy * 100, 0)}% busy, failed ${run.failed} ${JSON.stringify(run.cacheStatus)}`,
        );
      }
    }
  }

  const figures: ThroughputFigure[] = [];
  for (const concurrency of CONCURRENCIES) {
    const direct = runs.get(`direct@${concurrency}`) ?? [];
    const directP50 = median(direct.map((r) => r.p50Ms));
    const directP99 = median(direct.map((r) => r.p99Ms));
    for (const subject of subjects) {
      const rs = runs.get(`${subject.name}@${concurrency}`) ?? [];
      const p50 = median(rs.map((r) => r.p50Ms));
      const p99 = median(rs.map((r) => r.p99Ms));
      figures.push({
        target: subject.name,
        concurrency,
        rps: median(rs.map((r) => r.rps)),
        p50Ms: p50,
        p99Ms: p99,
        // Differences within each repetition (the targets ran seconds apart), then their median.
        addedP50Ms: pairedMedian(rs, direct, (r) => r.p50Ms) ?? p50 - directP50,
        addedP99Ms: pairedMedian(rs, direct, (r) => r.p99Ms) ?? p99 - directP99,
        cpuUsPerRequest: median(rs.map((r) => r.cpuUsPerRequest)),
        serversCpuUsPerRequest: median(rs.map((r) => r.serversCpuUsPerRequest)),
        cpuUsPerRequestByProcess: Object.fromEntries(
          Object.keys(rs[0]?.cpuUsPerRequestByProcess ?? {}).map((name) => [
            name,
            median(rs.map((r) => r.cpuUsPerRequestByProcess[name])),
          ]),
        ),
        rssMaxMb: Math.max(...rs.map((r) => r.rssMaxMb)),
        loadGeneratorBusy: median(rs.map((r) => r.loadGeneratorBusy)),
        runs: rs,
      });
    }
  }
  return figures;
}

/** Median over repetitions of `of(run) - of(base run of the same repetition)`; undefined if unpaired. */
export function pairedMedian<T>(
  runs: readonly T[],
  base: readonly T[],
  of: (run: T) => number,
): number | undefined {
  if (runs.length === 0 || runs.length !== base.length) return undefined;
  return median(runs.map((r, i) => of(r) - of(base[i])));
}

/** Median over repetitions of the ratio of two targets' RPS within the same repetition. */
export function pairedRatio(runs: readonly ThroughputRun[], base: readonly ThroughputRun[]): number {
  if (runs.length === 0 || runs.length !== base.length) return Number.NaN;
  return median(runs.map((r, i) => r.rps / base[i].rps));
}

export function missRequest(key: KeyKind, content: string): BenchRequest {
  return chatRequest({
    key,
    content: `Summarise request ${content} in one line.`,
    temperature: 0,
    maxTokens: MAX_TOKENS,
  });
}

export function uniqueProcesses(targets: readonly Target[]): PinnedProcess[] {
  return [...new Set(targets.map((t) => t.process))];
}

export async function measure(
  ctx: BenchContext,
  subject: Subject,
  concurrency: number,
  servers: readonly PinnedProcess[],
  series: string,
): Promise<ThroughputRun> {
  const pool = openPool(subject.target.origin, concurrency);
  try {
    await closedLoop({
      pool,
      concurrency,
      durationMs: ctx.settings.warmMs,
      request: (i) => subject.request(`${series}-warm`, i),
    });
    const own = subject.target.process;
    const ownBefore = own.cpuMicros();
    const allBefore = servers.map((p) => p.cpuMicros());
    let rssMax = own.rssMb();
    const sampler = setInterval(() => {
      rssMax = Math.max(rssMax, own.rssMb());
    }, 100);
    const genBefore = process.cpuUsage();
    const wallBefore = performance.now();
    let result: LoadResult;
    try {
      result = await closedLoop({
        pool,
        concurrency,
        durationMs: ctx.settings.runMs,
        request: (i) => subject.request(series, i),
      });
    } finally {
      clearInterval(sampler);
    }
    const gen = process.cpuUsage(genBefore);
    const loadGeneratorBusy = (gen.user + gen.system) / 1000 / (performance.now() - wallBefore);
    rssMax = Math.max(rssMax, own.rssMb());
    const requests = result.ok + result.failed;
    const ownCpu = own.cpuMicros() - ownBefore;
    const byProcess: Record<string, number> = {};
    servers.forEach((p, k) => {
      byProcess[p.options.name] = (p.cpuMicros() - allBefore[k]) / requests;
    });
    const allCpu = Object.values(byProcess).reduce((sum, us) => sum + us * requests, 0);
    return {
      rps: result.rps,
      p50Ms: result.p50Ms,
      p99Ms: result.p99Ms,
      cpuUsPerRequest: ownCpu / requests,
      serversCpuUsPerRequest: allCpu / requests,
      cpuUsPerRequestByProcess: byProcess,
      rssMaxMb: rssMax,
      loadGeneratorBusy,
      ok: result.ok,
      failed: result.failed,
      cacheStatus: result.cacheStatus,
      statuses: result.statuses,
    };
  } finally {
    await pool.close();
  }
}
