/** What only the Redis backend has: server time, key layout, expiries, and the script cache. */
import Redis from 'ioredis';
import { createStore, type GatewayStore, type ResilientStore } from '../../../service/store';
import { SPEND_KEY_TTL_SECONDS } from '../../../service/store/redis-store';
import { RedisServer } from '../../support/redis-server';
import { gatewayConfig, request, roomy, TestClock, uniqueStage } from './store-harness';

let server: RedisServer;
let inspect: Redis;
const stores: GatewayStore[] = [];

beforeAll(async () => {
  server = await RedisServer.start();
  inspect = new Redis(server.url);
});
afterEach(async () => {
  await Promise.all(stores.splice(0).map((store) => store.close()));
});
afterAll(async () => {
  inspect?.disconnect();
  await server?.stop();
});

function storeFor(stage: string, clock?: TestClock): GatewayStore {
  const store = createStore({
    config: gatewayConfig(stage, { fallback: 'closed', commandTimeoutMs: 1_000 }),
    redisUrl: server.url,
    now: clock?.now,
  });
  stores.push(store);
  return store;
}

it('uses the Redis server clock when no test clock is given', async () => {
  const store = storeFor(uniqueStage());
  const client = { ...roomy, rpm: 2 };
  const first = await store.admit(request({ client }));
  const second = await store.admit(request({ client }));
  const third = await store.admit(request({ client }));
  expect(first).toMatchObject({ ok: true, degraded: false, rateLimit: { remainingRequests: 1 } });
  expect(second).toMatchObject({ ok: true, rateLimit: { remainingRequests: 0 } });
  expect(third).toMatchObject({ ok: false, reason: 'requests', retryAfterSeconds: 30 });
  if (!second.ok) throw new Error('unreachable');
  // Up to 60 s, less whatever passed between the two calls.
  expect(second.rateLimit.resetRequestsMs).toBeGreaterThan(55_000);
  expect(second.rateLimit.resetRequestsMs).toBeLessThanOrEqual(60_000);
});

it("keeps every key under oai:<stage>:, and only cached answers expire: the month's counters and rate state have no TTL, so volatile-lru eviction never drops them", async () => {
  const stage = uniqueStage();
  const clock = new TestClock(Date.UTC(2026, 4, 15, 8, 0, 0));
  const store = storeFor(stage, clock);
  await store.cacheSet('k1', 'v1', 90);
  const decision = await store.admit(
    request({ client: { ...roomy, tpm: 1_000 }, tokens: 600, costNanos: 5 }),
  );
  expect(decision.ok).toBe(true);

  const keys = (await inspect.keys(`*${stage}*`)).sort();
  expect(keys).toEqual(
    [
      `oai:${stage}:cache:k1`,
      `oai:${stage}:rpm:c:app`,
      `oai:${stage}:rpm:s`,
      `oai:${stage}:spend:2026-05:c:app`,
      `oai:${stage}:spend:2026-05:s`,
      `oai:${stage}:tpm:c:app`,
      `oai:${stage}:tpm:s`,
    ].sort(),
  );
  expect(await inspect.get(`oai:${stage}:spend:2026-05:c:app`)).toBe('5');
  const cacheTtl = await inspect.ttl(`oai:${stage}:cache:k1`);
  expect(cacheTtl).toBeGreaterThan(80);
  expect(cacheTtl).toBeLessThanOrEqual(90);
  for (const key of keys.filter((k) => !k.includes(':cache:'))) expect(await inspect.ttl(key)).toBe(-1);
});

it("gives a month's spend counters their TTL once the next month spends, and a late settlement into them keeps it", async () => {
  const stage = uniqueStage();
  const clock = new TestClock(Date.UTC(2026, 4, 31, 23, 59, 0));
  const store = storeFor(stage, clock);
  const may = await store.admit(request({ costNanos: 7 }));
  expect(may.ok).toBe(true);
  clock.ms = Date.UTC(2026, 5, 1, 0, 0, 30);
  expect((await store.admit(request({ costNanos: 3 }))).ok).toBe(true);
  for (const key of [`oai:${stage}:spend:2026-05:c:app`, `oai:${stage}:spend:2026-05:s`]) {
    const ttl = await inspect.ttl(key);
    expect(ttl).toBeGreaterThan(SPEND_KEY_TTL_SECONDS - 60);
    expect(ttl).toBeLessThanOrEqual(SPEND_KEY_TTL_SECONDS);
  }
  expect(await inspect.ttl(`oai:${stage}:spend:2026-06:c:app`)).toBe(-1);
  // May's call settles in June: into May's counters, which stay history (they keep a TTL).
  if (!may.ok) throw new Error('unreachable');
  await store.settle(may.ticket, { tokens: 0, costNanos: 9 });
  expect(await inspect.get(`oai:${stage}:spend:2026-05:c:app`)).toBe('9');
  expect(await inspect.ttl(`oai:${stage}:spend:2026-05:c:app`)).toBeGreaterThan(0);
  expect(await inspect.get(`oai:${stage}:spend:2026-06:c:app`)).toBe('3');
});

it('does not write a cache entry with a TTL of 0', async () => {
  const stage = uniqueStage();
  const store = storeFor(stage);
  await store.cacheSet('k0', 'v', 0);
  expect(await inspect.exists(`oai:${stage}:cache:k0`)).toBe(0);
});

it('reloads its scripts after the server loses them (SCRIPT FLUSH, restart)', async () => {
  const store = storeFor(uniqueStage());
  expect((await store.admit(request())).ok).toBe(true);
  await inspect.script('FLUSH');
  expect(await store.admit(request())).toMatchObject({ ok: true, degraded: false });
});

it('reports no spend for a month without requests', async () => {
  expect(await storeFor(uniqueStage()).monthToDateSpendNanos()).toBe(0);
});

it('settles a miss and stores its cache entry in one command, with the entry TTL; a hit needs no second command', async () => {
  const stage = uniqueStage();
  const store = storeFor(stage) as ResilientStore;
  const miss = await store.admit(request({ cacheKey: 'k1', tokens: 600, costNanos: 5 }));
  if (!miss.ok) throw new Error('expected admission');
  const sent = store.redisCommandsSent;
  await store.settle(
    miss.ticket,
    { tokens: 100, costNanos: 2 },
    { key: 'k1', value: 'J{"id":1}', ttlSeconds: 90 },
  );
  expect(store.redisCommandsSent).toBe(sent + 1);
  expect(await inspect.get(`oai:${stage}:cache:k1`)).toBe('J{"id":1}');
  const ttl = await inspect.ttl(`oai:${stage}:cache:k1`);
  expect(ttl).toBeGreaterThan(85);
  expect(ttl).toBeLessThanOrEqual(90);

  const hit = await store.admit(request({ cacheKey: 'k1', tokens: 600, costNanos: 5 }));
  expect(hit).toMatchObject({ ok: true, cached: 'J{"id":1}', ticket: { tokens: 0, costNanos: 0 } });
  if (!hit.ok) throw new Error('unreachable');
  const afterHit = store.redisCommandsSent;
  await store.settle(hit.ticket, { tokens: 0, costNanos: 0 });
  expect(store.redisCommandsSent).toBe(afterHit);
});

describe('object owners in Redis', () => {
  it('are shared by every replica of the stage, one key an object with the TTL asked for', async () => {
    const stage = uniqueStage();
    const [a, b] = [storeFor(stage), storeFor(stage)];
    await (a as ResilientStore).whenConnected(5_000);
    await a.owners.record('resp_abc', { clientId: 'app', contextTokens: 42 }, 3600);
    expect(await b.owners.lookup('resp_abc')).toEqual({ clientId: 'app', contextTokens: 42 });
    const ttl = await inspect.ttl(`oai:${stage}:own:resp_abc`);
    expect(ttl).toBeGreaterThan(3590);
    expect(ttl).toBeLessThanOrEqual(3600);
    await a.owners.record('conv_abc', { clientId: 'app' }, 0);
    expect(await inspect.ttl(`oai:${stage}:own:conv_abc`)).toBe(-1);
  });

  it('read a record that is not an owner as no owner', async () => {
    const stage = uniqueStage();
    const store = storeFor(stage);
    await (store as ResilientStore).whenConnected(5_000);
    await inspect.set(`oai:${stage}:own:resp_bad`, 'not json');
    await inspect.set(`oai:${stage}:own:resp_odd`, JSON.stringify({ clientId: 7 }));
    expect(await store.owners.lookup('resp_bad')).toBeUndefined();
    expect(await store.owners.lookup('resp_odd')).toBeUndefined();
  });

  it('fail, never guess, while Redis cannot answer', async () => {
    const store = storeFor(uniqueStage());
    await (store as ResilientStore).whenConnected(5_000);
    await store.owners.record('resp_x', { clientId: 'app' }, 60);
    server.pause();
    try {
      await expect(store.owners.lookup('resp_x')).rejects.toThrow(/redis owner_lookup failed/);
    } finally {
      server.resume();
    }
  });
});
