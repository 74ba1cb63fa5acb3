import { manyClientsConfig } from '../lib/gateway-configs';
import { startGateway, type LoggingTarget } from '../lib/stack';
import { median } from '../lib/stats';
import type { BenchContext } from './context';
import {
  measure,
  missRequest,
  pairedRatio,
  uniqueProcesses,
  type Subject,
  type ThroughputRun,
} from './throughput';

/** The clients of the large config: the 10,000, against one. */
export const MANY_CLIENTS = 10_000;
/** Connections of the figure: the throughput figure's middle one. */
export const CLIENTS_CONCURRENCY = 10;

export interface ClientsRuns {
  readonly clients: number;
  readonly rps: number;
  readonly p50Ms: number;
  readonly cpuUsPerRequest: number;
  readonly runs: readonly ThroughputRun[];
}

export interface ClientsFigure {
  readonly concurrency: number;
  readonly one: ClientsRuns;
  readonly many: ClientsRuns;
  /** Median over repetitions of many-client RPS / one-client RPS, in %. */
  readonly ratioPercent: number;
  /**
   * Median over repetitions of the gateway's CPU per request with many clients / with one, in %: the
   * steadier figure on a busy machine, where RPS also measures what else the cores run.
   */
  readonly cpuRatioPercent: number;
}

/**
 * Figure 10: cache-miss throughput of a gateway configured with 10,000 clients against one with a
 * single client (the key lookup is a map from key hash to client, so the figure should be ~100%). Both
 * gateways run side by side on the server core and take turns, swapping order each repetition.
 */
export async function runClients(ctx: BenchContext, log: (line: string) => void): Promise<ClientsFigure> {
  const bundle = ctx.bundles.gateway;
  if (!bundle) throw new Error('the clients figure needs the gateway bundle');
  const started: LoggingTarget[] = [];
  try {
    const subjects: Subject[] = [];
    for (const count of [1, MANY_CLIENTS]) {
      const target = await startGateway({
        bundle,
        config: manyClientsConfig(`bench-clients${count}-${ctx.runTag}`, ctx.runTag, count),
        upstreamOrigin: ctx.upstream.origin,
        redisUrl: ctx.redis.url,
        workDir: ctx.workDir,
        label: `clients-${count}`,
      });
      started.push(target);
      subjects.push({
        name: `${count}`,
        target,
        request: (series, i) => missRequest('gateway', `${series}-clients${count}-${i}`),
      });
    }
    const servers = uniqueProcesses([ctx.upstream, ...started, ctx.redis]);
    // One unmeasured run each first, so the first measured runs do not pay for JIT compilation.
    for (const s of subjects)
      await measure(ctx, s, CLIENTS_CONCURRENCY, servers, `${ctx.runTag}-clients-jit`);
    const runs = new Map<string, ThroughputRun[]>(subjects.map((s) => [s.name, []]));
    for (let rep = 0; rep < ctx.settings.repetitions; rep++) {
      const order = rep % 2 === 0 ? subjects : [...subjects].reverse();
      for (const subject of order) {
        const run = await measure(
          ctx,
          subject,
          CLIENTS_CONCURRENCY,
          servers,
          `${ctx.runTag}-clients-r${rep}`,
        );
        runs.get(subject.name)!.push(run);
        log(
          `  rep ${rep + 1} ${subject.name.padStart(5)} clients: ${Math.round(run.rps)} rps, p50 ${run.p50Ms.toFixed(2)} ms, failed ${run.failed}`,
        );
      }
    }
    const of = (count: number): ClientsRuns => {
      const rs = runs.get(`${count}`)!;
      return {
        clients: count,
        rps: median(rs.map((r) => r.rps)),
        p50Ms: median(rs.map((r) => r.p50Ms)),
        cpuUsPerRequest: median(rs.map((r) => r.cpuUsPerRequest)),
        runs: rs,
      };
    };
    return {
      concurrency: CLIENTS_CONCURRENCY,
      one: of(1),
      many: of(MANY_CLIENTS),
      ratioPercent: pairedRatio(runs.get(`${MANY_CLIENTS}`)!, runs.get('1')!) * 100,
      cpuRatioPercent:
        median(
          runs.get(`${MANY_CLIENTS}`)!.map((r, i) => r.cpuUsPerRequest / runs.get('1')![i].cpuUsPerRequest),
        ) * 100,
    };
  } finally {
    for (const t of started) await t.process.stop().catch(() => undefined);
  }
}
