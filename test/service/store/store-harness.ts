import { parseGatewayConfig, type GatewayConfig, type StoreFallback } from '../../../runtime/gateway-config';
import { createStore, MemoryStore, type CreateStoreOptions, type GatewayStore } from '../../../service/store';
import type { AdmissionRequest, ScopeLimits } from '../../../service/store/types';
import { TestClock } from '../../support/clock';
import type { RedisServer } from '../../support/redis-server';

export { TestClock };

let stageCounter = 0;
/** A stage name no other test uses, so tests sharing one redis-server never share keys. */
export function uniqueStage(): string {
  stageCounter += 1;
  return `t${process.pid}-${stageCounter}`;
}

export function gatewayConfig(
  stage: string,
  store: { fallback?: StoreFallback; commandTimeoutMs?: number } = {},
): GatewayConfig {
  return parseGatewayConfig({
    stage,
    models: { 'gpt-4o-mini': { inputUsdPer1M: 0.15, outputUsdPer1M: 0.6 } },
    clients: [{ id: 'app', keySha256: 'a'.repeat(64), rpm: 60, tpm: 10_000, monthlyBudgetUsd: 1 }],
    limits: { maxTokens: 1000, defaultMaxTokens: 100, maxN: 1, maxStopSequences: 4, maxBodyBytes: 65536 },
    budget: { monthlyUsd: 10, notifyAtPercent: 80 },
    cache: { ttlSeconds: 60 },
    store,
  });
}

export const roomy: ScopeLimits = { rpm: 1_000, tpm: 1_000_000, budgetNanos: 1_000_000_000 };

export function request(overrides: Partial<AdmissionRequest> = {}): AdmissionRequest {
  return { clientId: 'app', client: roomy, stage: roomy, tokens: 100, costNanos: 1_000, ...overrides };
}

/** Builds stores of one backend for a test; `stage` defaults to a fresh one per call of `newStage`. */
export interface StoreFactory {
  readonly name: string;
  create(options: { stage: string; clock?: TestClock }): GatewayStore;
}

export const memoryFactory: StoreFactory = {
  name: 'MemoryStore',
  create: ({ clock }) => new MemoryStore({ now: clock?.now }),
};

export function redisFactory(
  server: () => RedisServer,
  extra: Partial<CreateStoreOptions> = {},
): StoreFactory {
  return {
    name: 'RedisStore',
    create: ({ stage, clock }) =>
      createStore({
        config: gatewayConfig(stage, { fallback: 'closed', commandTimeoutMs: 1_000 }),
        redisUrl: server().url,
        now: clock?.now,
        ...extra,
      }),
  };
}
