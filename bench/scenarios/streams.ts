import { closedLoop, openPool } from '../lib/load';
import { chatRequest, responsesRequest, type KeyKind } from '../lib/requests';
import { median, round } from '../lib/stats';
import type { Target } from '../lib/stack';
import type { BenchContext } from './context';
import { pairedMedian } from './throughput';

/** The stream grammar measured: chat chunks ending in `[DONE]`, or Responses' typed events. */
export type StreamApi = 'chat' | 'responses';

/** Callers streaming at once. */
export const STREAM_CONCURRENCY = 10;

export interface StreamRun {
  readonly ttfbP50Ms: number;
  readonly ttfbP99Ms: number;
  readonly totalP50Ms: number;
  readonly totalP99Ms: number;
  readonly streams: number;
  readonly failed: number;
}

export interface StreamFigure {
  readonly target: string;
  readonly ttfbP50Ms: number;
  readonly ttfbP99Ms: number;
  readonly totalP50Ms: number;
  readonly totalP99Ms: number;
  /** TTFB p50 minus direct's, ms. */
  readonly addedTtfbP50Ms: number;
  readonly addedTotalP50Ms: number;
  readonly runs: readonly StreamRun[];
}

/**
 * Figure 3: SSE streams of 20 content chunks 5 ms apart (the fake upstream's stream settings), at
 * concurrency 10, through each target. TTFB is the time to the first body byte the caller receives
 * (the assistant-role chunk the upstream sends at once); total is the time to `[DONE]`. Through the
 * gateway every stream is a cache miss (a new prompt at temperature 0).
 */
export async function runStreams(
  ctx: BenchContext,
  log: (line: string) => void,
  api: StreamApi = 'chat',
): Promise<StreamFigure[]> {
  const suffix = api === 'chat' ? '' : `, ${api}`;
  const subjects: Array<{ name: string; target: Target; key: KeyKind }> = [
    { name: `direct${api === 'chat' ? '' : ` (${api})`}`, target: ctx.upstream, key: 'upstream' },
    { name: `minimal proxy${api === 'chat' ? '' : ` (${api})`}`, target: ctx.proxy, key: 'upstream' },
    ...(ctx.gateway
      ? [{ name: `gateway (cache miss${suffix})`, target: ctx.gateway, key: 'gateway' as const }]
      : []),
  ];
  const build = api === 'chat' ? chatRequest : responsesRequest;
  const runs = new Map<string, StreamRun[]>();
  for (let rep = 0; rep < ctx.settings.repetitions; rep++) {
    const order = subjects.map((_, k) => subjects[(k + rep) % subjects.length]);
    for (const subject of order) {
      const pool = openPool(subject.target.origin, STREAM_CONCURRENCY);
      try {
        const request = (series: string) => (i: number) =>
          build({
            key: subject.key,
            content: `Stream ${series}-${i} please.`,
            temperature: 0,
            maxTokens: 256,
            stream: true,
          });
        const series = `${ctx.runTag}-s${rep}`;
        await closedLoop({
          pool,
          concurrency: STREAM_CONCURRENCY,
          durationMs: 300,
          request: request(`${series}-warm`),
        });
        const r = await closedLoop({
          pool,
          concurrency: STREAM_CONCURRENCY,
          durationMs: ctx.settings.streamRunMs,
          request: request(series),
        });
        const run: StreamRun = {
          ttfbP50Ms: r.ttfbP50Ms,
          ttfbP99Ms: r.ttfbP99Ms,
          totalP50Ms: r.p50Ms,
          totalP99Ms: r.p99Ms,
          streams: r.ok,
          failed: r.failed,
        };
        runs.set(subject.name, [...(runs.get(subject.name) ?? []), run]);
        log(
          `  rep ${rep + 1} ${subject.name.padEnd(22)} TTFB p50 ${round(run.ttfbP50Ms)} ms p99 ${round(run.ttfbP99Ms)} ms, total p50 ${round(run.totalP50Ms)} ms, ${run.streams} streams, failed ${run.failed}`,
        );
      } finally {
        await pool.close();
      }
    }
  }
  const direct = runs.get(subjects[0].name) ?? [];
  const directTtfb = median(direct.map((r) => r.ttfbP50Ms));
  const directTotal = median(direct.map((r) => r.totalP50Ms));
  return subjects.map((s) => {
    const rs = runs.get(s.name) ?? [];
    const ttfb = median(rs.map((r) => r.ttfbP50Ms));
    const total = median(rs.map((r) => r.totalP50Ms));
    return {
      target: s.name,
      ttfbP50Ms: ttfb,
      ttfbP99Ms: median(rs.map((r) => r.ttfbP99Ms)),
      totalP50Ms: total,
      totalP99Ms: median(rs.map((r) => r.totalP99Ms)),
      addedTtfbP50Ms: pairedMedian(rs, direct, (r) => r.ttfbP50Ms) ?? ttfb - directTtfb,
      addedTotalP50Ms: pairedMedian(rs, direct, (r) => r.totalP50Ms) ?? total - directTotal,
      runs: rs,
    };
  });
}
