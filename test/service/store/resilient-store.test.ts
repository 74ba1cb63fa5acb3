/**
 * A cache write never harms admissions: cache writes have their own breaker, so entries that fail to
 * store (too large, a full node, a slow write) stop caching for a while and leave limits and budgets
 * on Redis.
 */
import { CircuitBreaker, MemoryStore, ResilientStore } from '../../../service/store';
import type { RedisStore } from '../../../service/store/redis-store';
import type { AdmissionRequest, CacheEntry, Ticket } from '../../../service/store/types';
import { request, roomy } from './store-harness';

/** A Redis store whose writes of cache entries fail, as a full or slow node makes them. */
class CacheWritesFail {
  admits = 0;
  settles: Array<{ entry: boolean }> = [];
  commandsSent = 0;
  async admit(r: AdmissionRequest) {
    this.admits++;
    return new MemoryStore().admitNow(r);
  }
  async settle(_ticket: Ticket, _actual: unknown, entry?: CacheEntry) {
    this.settles.push({ entry: entry !== undefined });
    if (entry) throw new Error('OOM command not allowed when used memory > maxmemory');
  }
  async cacheSet() {
    throw new Error('OOM command not allowed when used memory > maxmemory');
  }
  async monthToDateSpendNanos() {
    return 0;
  }
  async close() {}
  async whenReady() {
    return true;
  }
}

describe('ResilientStore', () => {
  it('keeps admissions on Redis when cache writes fail, and stops sending entries until a probe', async () => {
    const primary = new CacheWritesFail();
    const breaker = new CircuitBreaker({ failureThreshold: 3, cooldownMs: 60_000 });
    const cacheBreaker = new CircuitBreaker({ failureThreshold: 3, cooldownMs: 60_000 });
    const store = new ResilientStore({
      primary: primary as unknown as RedisStore,
      breaker,
      cacheBreaker,
      fallback: 'closed',
    });
    const entry = { key: 'cache:k', value: 'J{}', ttlSeconds: 60 };
    for (let i = 0; i < 5; i++) {
      const decision = await store.admit(request({ client: roomy }));
      if (!decision.ok) throw new Error('expected an admission');
      expect(decision.degraded).toBe(false);
      await store.settle(decision.ticket, { tokens: 1, costNanos: 1 }, entry);
      await store.cacheSet('cache:x', 'J{}', 60);
    }
    expect(breaker.state).toBe('closed');
    expect(cacheBreaker.state).toBe('open');
    expect(primary.admits).toBe(5);
    // Three failed writes (settle with entry, cacheSet, settle with entry) opened the cache breaker:
    // later settlements still correct the reservation, without their entry.
    expect(primary.settles.map((s) => s.entry)).toEqual([true, true, false, false, false]);
  });
});
