/**
 * A Redis reply that was late only because the gateway's own event loop was blocked is not a Redis
 * failure. Each test blocks the loop with a busy wait while an admission is in flight against a
 * healthy redis-server (the reply arrives during the wait and sits in the socket), and asserts that
 * the breaker stays closed and the decision comes from Redis; a hung server (SIGSTOP) with a free
 * loop still opens it. No assertion reads elapsed time.
 */
import { createStore, ResilientStore, type GatewayStore } from '../../../service/store';
import { RedisServer } from '../../support/redis-server';
import { gatewayConfig, request, roomy, uniqueStage } from './store-harness';
import type { ObjectOwner } from '../../../service/store/types';

jest.setTimeout(20_000);

/** Command timeout of the stores under test, ms; each busy wait is several times longer. */
const COMMAND_TIMEOUT_MS = 50;
const BLOCK_MS = 4 * COMMAND_TIMEOUT_MS;

let server: RedisServer;
const OWNER: ObjectOwner = { clientId: 'app' };
const stores: GatewayStore[] = [];
beforeAll(async () => {
  server = await RedisServer.start();
});
afterEach(async () => {
  await Promise.all(stores.splice(0).map((store) => store.close()));
});
afterAll(async () => {
  await server.stop();
});

async function connectedStore(): Promise<ResilientStore> {
  const store = createStore({
    config: gatewayConfig(uniqueStage(), { fallback: 'shared', commandTimeoutMs: COMMAND_TIMEOUT_MS }),
    redisUrl: server.url,
    circuit: { failureThreshold: 1, cooldownMs: 60_000 },
  });
  if (!(store instanceof ResilientStore))
    throw new Error('createStore with a URL must guard the Redis store');
  stores.push(store);
  expect(await store.whenConnected(10_000)).toBe(true);
  return store;
}

/** Holds the event loop, as a starved gateway does: no timer, no socket read runs meanwhile. */
function busyWait(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // spin
  }
}

/**
 * Starts `call` and blocks the loop right after its command has been written (the check phase
 * follows the auto-pipeline's flush), so that its reply arrives while nothing can read it.
 */
async function withLoopBlocked<T>(call: () => Promise<T>): Promise<T> {
  const pending = call();
  setImmediate(() => busyWait(BLOCK_MS));
  return pending;
}

describe('a blocked event loop', () => {
  it('does not open the circuit, and the admission is decided by Redis', async () => {
    const store = await connectedStore();
    const client = { ...roomy, rpm: 3 };
    const decisions = [];
    for (let i = 0; i < 4; i++) decisions.push(await withLoopBlocked(() => store.admit(request({ client }))));
    expect(store.circuitState).toBe('closed');
    expect(decisions.map((d) => d.degraded)).toEqual([false, false, false, false]);
    // Redis, not a fresh local bucket, counted them: the fourth is over the client's 3 RPM.
    expect(decisions.map((d) => d.ok)).toEqual([true, true, true, false]);
  });

  it('does not fail settlements, cache writes or guarded commands', async () => {
    const store = await connectedStore();
    const decision = await store.admit(request({ tokens: 500 }));
    if (!decision.ok) throw new Error('expected admission');
    await withLoopBlocked(() => store.settle(decision.ticket, { tokens: 10, costNanos: 10 }));
    await withLoopBlocked(() => store.cacheSet('loop-stall', 'value', 60));
    await withLoopBlocked(() => store.owners.record('file-loop-stall', OWNER, 60));
    expect(await withLoopBlocked(() => store.monthToDateSpendNanos())).toBeGreaterThan(0);
    expect(store.circuitState).toBe('closed');
    expect((await store.admit(request())).degraded).toBe(false);
  });
});

describe('a hung Redis with a free event loop', () => {
  it('still times out and opens the circuit', async () => {
    const hung = await RedisServer.start();
    try {
      const store = createStore({
        config: gatewayConfig(uniqueStage(), { fallback: 'shared', commandTimeoutMs: COMMAND_TIMEOUT_MS }),
        redisUrl: hung.url,
        circuit: { failureThreshold: 1, cooldownMs: 60_000 },
      }) as ResilientStore;
      stores.push(store);
      expect(await store.whenConnected(10_000)).toBe(true);
      hung.pause();
      expect(await store.admit(request())).toMatchObject({ ok: true, degraded: true });
      expect(store.circuitState).toBe('open');
      hung.resume();
    } finally {
      await Promise.all(stores.splice(0).map((store) => store.close()));
      await hung.stop();
    }
  });
});
