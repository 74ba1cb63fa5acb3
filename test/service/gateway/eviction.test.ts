/**
 * The cache at its memory limit, under the eviction policy the stack deploys (`volatile-lru`, the
 * ElastiCache default, set explicitly in `lib/constructs/cache/cache.ts`): cached answers are evicted,
 * the month's spend counters and rate state are not, so a client's spent budget survives any amount of
 * cached data. Spend is asserted from what the fake upstream billed.
 */
import Redis from 'ioredis';
import { createHash } from 'node:crypto';
import { costNanos } from '../../../runtime/pricing';
import { eventually } from '../../support/eventually';
import { chatBody, GatewayHarness, KEYS } from '../../support/gateway-harness';
import { RedisServer } from '../../support/redis-server';
import { apiErrorOf } from '../../support/refusal';

const MINI = { inputUsdPer1M: 0.15, outputUsdPer1M: 0.6 };
const CLIENTS = ['app', 'other'] as const;

describe('the cache at its memory limit', () => {
  let redis: RedisServer;
  let inspect: Redis;
  let h: GatewayHarness;
  beforeAll(async () => {
    redis = await RedisServer.start();
    inspect = new Redis(redis.url);
    h = await GatewayHarness.start({ redisUrl: redis.url, config: { stage: 'evict' } });
  });
  afterAll(async () => {
    await h.stop();
    inspect.disconnect();
    await redis.stop();
  });

  /** What upstream billed each client, read off the fake's ledger as each client's calls ran. */
  const billed: Record<string, number> = {};
  const billedBy = (client: string) => billed[client];
  const counterOf = async (client: string) => {
    const [key] = await inspect.keys(`oai:evict:spend:*:c:${client}`);
    return key === undefined ? undefined : Number(await inspect.get(key));
  };

  it('evicts cached answers and keeps every spend counter and rate bucket', async () => {
    for (const client of CLIENTS) {
      const from = h.fake.billed.length;
      for (let i = 0; i < 3; i++)
        await h.client(KEYS[client]).chat.completions.create(chatBody(`${client} call ${i}`));
      billed[client] = h.fake.billed.slice(from).reduce((sum, b) => sum + costNanos(MINI, b.usage), 0);
    }
    await eventually(async () => {
      for (const client of CLIENTS) if ((await counterOf(client)) !== billedBy(client)) return false;
      return true;
    });
    const counters = (await inspect.keys('oai:evict:*')).filter((k) => !k.includes(':cache:'));
    // Every client's and the stage's spend counter, and the rate state still running.
    expect(counters.filter((k) => k.includes(':spend:'))).toHaveLength(CLIENTS.length + 1);
    expect(counters.filter((k) => k.includes(':rpm:')).length).toBeGreaterThan(0);

    // Fill the cache far past a small memory limit with answers of the kind the gateway caches.
    const used = Number(/used_memory:(\d+)/.exec(await inspect.info('memory'))![1]);
    await inspect.config('SET', 'maxmemory', String(used + 4 * 1024 * 1024));
    await inspect.config('SET', 'maxmemory-policy', 'volatile-lru');
    const answer = 'x'.repeat(64 * 1024);
    for (let i = 0; i < 200; i++) await h.store.cacheSet(`filler-${i}`, answer, 3600);
    const evicted = Number(/evicted_keys:(\d+)/.exec(await inspect.info('stats'))![1]);
    expect(evicted).toBeGreaterThan(100);

    for (const key of counters) expect(await inspect.exists(key)).toBe(1);
    for (const client of CLIENTS) expect(await counterOf(client)).toBe(billedBy(client));
    await inspect.config('SET', 'maxmemory', '0');
  });

  it('still refuses a client whose budget is spent, however much was cached since', async () => {
    const spent = await GatewayHarness.start({
      redisUrl: redis.url,
      fake: h.fake,
      config: {
        stage: 'evict-budget',
        clients: [
          {
            id: 'app',
            keySha256: createHash('sha256').update(KEYS.app).digest('hex'),
            rpm: 1000,
            tpm: 1_000_000,
            monthlyBudgetUsd: 0.00005,
          },
        ],
      },
    });
    try {
      // Spend the budget, to what upstream billed.
      for (let i = 0; i < 10; i++) {
        const err = await apiErrorOf(spent.client().chat.completions.create(chatBody(`spend ${i}`)));
        if (err !== undefined) break;
      }
      const refusedBefore = await apiErrorOf(spent.client().chat.completions.create(chatBody('once more')));
      expect(refusedBefore).toMatchObject({ status: 429, type: 'insufficient_quota' });

      const used = Number(/used_memory:(\d+)/.exec(await inspect.info('memory'))![1]);
      await inspect.config('SET', 'maxmemory', String(used + 4 * 1024 * 1024));
      await inspect.config('SET', 'maxmemory-policy', 'volatile-lru');
      const answer = 'y'.repeat(64 * 1024);
      for (let i = 0; i < 200; i++) await spent.store.cacheSet(`filler-${i}`, answer, 3600);

      const before = spent.fake.received;
      const refusedAfter = await apiErrorOf(spent.client().chat.completions.create(chatBody('and again')));
      expect(refusedAfter).toMatchObject({ status: 429, type: 'insufficient_quota' });
      expect(spent.fake.received).toBe(before);
    } finally {
      await inspect.config('SET', 'maxmemory', '0');
      await spent.stop();
    }
  });
});
