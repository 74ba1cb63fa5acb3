import { readFileSync } from 'node:fs';
import { GatewayMetric } from '../../runtime/metric-names';
import { DynaliteServer } from '../../test/support/dynalite-server';
import { stageMetricSum } from '../../test/support/gateway-process';
import { closedLoop, openPool } from '../lib/load';
import { throughputConfig } from '../lib/gateway-configs';
import { chatRequest } from '../lib/requests';
import { startGateway } from '../lib/stack';
import type { BenchContext } from './context';

/** Callers of the soak, closed loop: the throughput figure's middle concurrency. */
const SOAK_CONCURRENCY = 10;
/** The window whose RSS growth is the figure: the soak's last minute (its last two thirds in --quick). */
const GROWTH_WINDOW_MS = 60_000;

export interface SoakFigure {
  readonly durationMs: number;
  readonly concurrency: number;
  readonly requests: number;
  /** Answers other than 2xx, and transport errors. */
  readonly errors: number;
  /** VmRSS at the start of the growth window and at the end, MB. */
  readonly rssWindowStartMb: number;
  readonly rssEndMb: number;
  readonly rssGrowthMb: number;
  readonly windowMs: number;
  /** `LedgerWriteErrors` of the gateway's stage EMF lines. */
  readonly ledgerWriteErrors: number;
  /** The ledger's spend of the bench client after shutdown (every increment written), nano-dollars. */
  readonly ledgerSpendNanos: number;
}

/**
 * Figure 9: the gateway as deployed (Redis, a DynamoDB-compatible spend ledger, every feature on)
 * under a mix of cache misses, cache hits and streams for `soakMs` (150 s: RSS settles in the first 90);
 * its RSS must stay flat over the last minute, with no error. A leak per request or per flush shows as growth here.
 */
export async function runSoak(
  ctx: BenchContext,
  log: (line: string) => void,
): Promise<SoakFigure | undefined> {
  if (!ctx.bundles.gateway) return undefined;
  const dynamo = await DynaliteServer.start();
  const table = `bench-ledger-${ctx.runTag}`;
  await dynamo.createLedgerTable(table);
  const gateway = await startGateway({
    bundle: ctx.bundles.gateway,
    config: throughputConfig(`bench-soak-${ctx.runTag}`.slice(0, 32), `soak-${ctx.runTag}`),
    upstreamOrigin: ctx.upstream.origin,
    redisUrl: ctx.redis.url,
    workDir: ctx.workDir,
    label: 'soak',
    env: {
      SPEND_LEDGER_TABLE: table,
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'bench',
      AWS_SECRET_ACCESS_KEY: 'bench',
    },
  });
  try {
    const durationMs = ctx.settings.soakMs;
    const windowMs = Math.min(GROWTH_WINDOW_MS, (durationMs * 2) / 3);
    let rssWindowStartMb = NaN;
    const mark = setTimeout(() => (rssWindowStartMb = gateway.process.rssMb()), durationMs - windowMs);
    const pool = openPool(gateway.origin, SOAK_CONCURRENCY);
    let result;
    try {
      result = await closedLoop({
        pool,
        concurrency: SOAK_CONCURRENCY,
        durationMs,
        // A third each: a miss, a hit (20 prompts repeated), a streamed miss.
        request: (i) =>
          chatRequest({
            key: 'gateway',
            content: i % 3 === 1 ? `soak hit ${i % 20}` : `soak ${ctx.runTag} ${i}`,
            temperature: i % 3 === 1 ? 0 : 0.7,
            maxTokens: 64,
            stream: i % 3 === 2,
          }),
      });
    } finally {
      clearTimeout(mark);
      await pool.close();
    }
    const rssEndMb = gateway.process.rssMb();
    await gateway.process.stop();
    const spend = await dynamo.ledgerScopeTotal(table, 'c:bench');
    const figure: SoakFigure = {
      durationMs,
      concurrency: SOAK_CONCURRENCY,
      requests: result.ok + result.failed,
      errors: result.failed,
      rssWindowStartMb,
      rssEndMb,
      rssGrowthMb: rssEndMb - rssWindowStartMb,
      windowMs,
      ledgerWriteErrors: stageMetricSum(
        readFileSync(gateway.logFile, 'utf8'),
        GatewayMetric.ledgerWriteErrors,
      ),
      ledgerSpendNanos: spend,
    };
    log(
      `  ${figure.requests} requests in ${Math.round(durationMs / 1000)} s at c=${SOAK_CONCURRENCY}, ${figure.errors} errors (${JSON.stringify(result.statuses)}), RSS ${figure.rssWindowStartMb.toFixed(1)} -> ${rssEndMb.toFixed(1)} MB over the last ${Math.round(windowMs / 1000)} s, ledger write errors ${figure.ledgerWriteErrors}, ledger spend ${spend} nano-dollars`,
    );
    return figure;
  } finally {
    await gateway.process.stop();
    await dynamo.stop();
  }
}
