import { createHash } from 'node:crypto';
import { BENCH_CLIENT_KEY_SHA256 } from './stack';

/** The model every bench request names; priced in each config below. */
export const BENCH_MODEL = 'gpt-4o-mini';

/** A limit no bench run can reach, so throughput runs measure the work of checking limits, not refusals. */
const UNREACHABLE = 1_000_000_000;

interface BenchConfigOptions {
  /** Stage label: part of every Redis key, so each scenario starts from empty counters. */
  readonly stage: string;
  readonly clientRpm?: number;
  /** The client's `maxConcurrentCalls`. @default the gateway's (64) */
  readonly clientMaxConcurrentCalls?: number;
  readonly stageRpm?: number;
  /** Stage `rateLimits.burstSeconds`. @default the gateway's (60) */
  readonly stageBurstSeconds?: number;
  readonly monthlyBudgetUsd?: number;
  readonly inputUsdPer1M?: number;
  readonly outputUsdPer1M?: number;
  /** Cache version: a new one per run, so nothing cached by an earlier run is ever hit. */
  readonly cacheVersion: string;
}

function benchConfig(options: BenchConfigOptions) {
  const budget = options.monthlyBudgetUsd ?? 1_000_000;
  return {
    stage: options.stage,
    clients: [
      {
        id: 'bench',
        keySha256: BENCH_CLIENT_KEY_SHA256,
        rpm: options.clientRpm ?? UNREACHABLE,
        tpm: UNREACHABLE * 1000,
        monthlyBudgetUsd: budget,
        ...(options.clientMaxConcurrentCalls === undefined
          ? {}
          : { maxConcurrentCalls: options.clientMaxConcurrentCalls }),
      },
    ],
    models: {
      [BENCH_MODEL]: {
        inputUsdPer1M: options.inputUsdPer1M ?? 0.15,
        outputUsdPer1M: options.outputUsdPer1M ?? 0.6,
      },
    },
    aliases: { default: BENCH_MODEL },
    limits: { maxTokens: 4096, defaultMaxTokens: 256, maxN: 4, maxStopSequences: 4, maxBodyBytes: 1_048_576 },
    rateLimits: {
      rpm: options.stageRpm ?? UNREACHABLE,
      tpm: UNREACHABLE * 1000,
      ...(options.stageBurstSeconds === undefined ? {} : { burstSeconds: options.stageBurstSeconds }),
    },
    budget: { monthlyUsd: budget, notifyAtPercent: 80 },
    cache: { ttlSeconds: 3600, version: options.cacheVersion },
    upstream: { timeoutMs: 30_000, maxRetries: 2, maxRetryAfterSeconds: 10 },
    moderation: { enabled: false },
    store: { fallback: 'shared', commandTimeoutMs: 50 },
  };
}

/** Everything on, limits out of reach: the throughput, cache and stream figures. */
export function throughputConfig(stage: string, cacheVersion: string) {
  return benchConfig({ stage, cacheVersion });
}

/**
 * A monthly budget that fits exactly `fits` requests: prompt tokens are free and each request asks for
 * exactly `completionTokens` (the fake upstream answers with that many), so the worst-case reservation
 * equals the settled cost and any overshoot is the gateway's, not the estimate's.
 */
export function budgetConfig(stage: string, cacheVersion: string, fits: number, completionTokens: number) {
  const outputUsdPer1M = 1000;
  const costUsd = (completionTokens * outputUsdPer1M) / 1_000_000;
  return {
    config: benchConfig({
      stage,
      cacheVersion,
      inputUsdPer1M: 0,
      outputUsdPer1M,
      // Half a request of slack so float rounding cannot decide whether request `fits` or `fits + 1` fits.
      monthlyBudgetUsd: costUsd * (fits + 0.5),
    }),
    costUsd,
  };
}

/**
 * Client and stage both limited to `rpm`, the same limit the upstream enforces; the stage spreads it
 * with a 1 s burst, as the upstream quantizes its limit per second.
 */
/**
 * The overload figure: one client limited to `rpm` (the whole minute's burst at once, as by default),
 * as many calls in flight as the connections offer them, nothing else in reach.
 */
export function overloadConfig(stage: string, cacheVersion: string, rpm: number, connections: number) {
  return benchConfig({ stage, cacheVersion, clientRpm: rpm, clientMaxConcurrentCalls: connections });
}

export function rateLimitConfig(stage: string, cacheVersion: string, rpm: number) {
  return benchConfig({ stage, cacheVersion, clientRpm: rpm, stageRpm: rpm, stageBurstSeconds: 1 });
}

/**
 * The throughput config with `count` clients: the bench client and `count - 1` others, each with a
 * key hash of its own, so the gateway's key lookup and per-client tables hold them all.
 */
export function manyClientsConfig(stage: string, cacheVersion: string, count: number) {
  const config = benchConfig({ stage, cacheVersion });
  const others = Array.from({ length: count - 1 }, (_, i) => ({
    ...config.clients[0],
    id: `team-${i}`,
    keySha256: createHash('sha256').update(`bench-other-client-${i}`).digest('hex'),
  }));
  return { ...config, clients: [...config.clients, ...others] };
}
