/**
 * The whole gateway against a real redis-server: state shared by replicas, and Redis paused (hung) or
 * killed (crashed) under traffic: requests still succeed within the SDK timeout, the cache is bypassed,
 * the fallback applies, and everything recovers when Redis is back.
 */
import Redis from 'ioredis';
import OpenAI from 'openai';
import { eventually } from '../../support/eventually';
import { chatBody, GatewayHarness, HEALTHY_REDIS_STORE, KEYS } from '../../support/gateway-harness';
import { countStoreErrors, ledgerWarnings } from '../../../service/main/gateway';
import { CircuitOpenError, StoreOperationError } from '../../../service/store';
import { FakeOpenAI } from '../../support/fake-openai';
import { freePort, RedisServer } from '../../support/redis-server';
import { createHash } from 'node:crypto';

const PASSWORD = 'test-auth-token';
const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const det = (content: string) => chatBody(content, { temperature: 0 });
/** A hang would fail the request at this SDK timeout rather than stall the suite. */
const SDK_TIMEOUT_MS = 5_000;

async function cacheStatus(h: GatewayHarness, body: ReturnType<typeof det>, key: string = KEYS.app) {
  const { response } = await h
    .client(key, { timeout: SDK_TIMEOUT_MS })
    .chat.completions.create(body)
    .withResponse();
  return response.headers.get('x-cache-status');
}

describe('gateway with Redis', () => {
  let redis: RedisServer;
  let fake: FakeOpenAI;
  let probe: Redis;

  beforeAll(async () => {
    redis = await RedisServer.start({ password: PASSWORD });
    fake = new FakeOpenAI();
    await fake.start();
    probe = new Redis(redis.urlWithoutPassword, {
      password: PASSWORD,
      lazyConnect: true,
      maxRetriesPerRequest: 1,
    });
    await probe.connect();
  });
  afterEach(() => fake.reset());
  afterAll(async () => {
    probe.disconnect();
    await fake.stop();
    await redis.stop();
  });

  const start = (config: Record<string, unknown> = {}, options: { awaitReady?: boolean } = {}) =>
    GatewayHarness.start({
      redisUrl: redis.urlWithoutPassword,
      redisAuthToken: PASSWORD,
      fake,
      config,
      ...options,
    });

  const waitForCacheKeys = async (count: number) => {
    for (let i = 0; i < 200; i++) {
      const keys = await probe.keys('*cache:*');
      if (keys.length >= count) return;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error('cache entry never reached Redis');
  };

  it('shares the cache and the rate limits between two replicas', async () => {
    await probe.flushall();
    const config = {
      clients: [{ id: 'app', keySha256: sha(KEYS.app), rpm: 3, tpm: 1_000_000, monthlyBudgetUsd: 1 }],
      store: HEALTHY_REDIS_STORE,
    };
    const a = await start(config);
    const b = await start(config);
    try {
      expect(await cacheStatus(a, det('shared'))).toBe('MISS');
      await waitForCacheKeys(1);
      expect(await cacheStatus(b, det('shared'))).toBe('HIT');
      await a.client().chat.completions.create(chatBody('third request'));
      const err = await b
        .client()
        .chat.completions.create(chatBody('fourth'))
        .catch((e: unknown) => e);
      expect(err).toMatchObject({ status: 429, code: 'rate_limit_exceeded' });
      expect(fake.received).toBe(2);
    } finally {
      await a.stop();
      await b.stop();
    }
  });

  it('keeps serving while Redis is paused: no hang, cache bypassed, then recovers', async () => {
    await probe.flushall();
    const h = await start();
    try {
      expect(await cacheStatus(h, det('before pause'))).toBe('MISS');
      redis.pause();
      const during: Array<string | null> = [];
      for (let i = 0; i < 5; i++) during.push(await cacheStatus(h, det(`paused ${i}`)));
      expect(during.every((s) => s === 'BYPASS')).toBe(true);
      // Non-cacheable traffic is served too.
      await expect(
        h.client(KEYS.app, { timeout: SDK_TIMEOUT_MS }).chat.completions.create(chatBody('plain')),
      ).resolves.toBeDefined();
      redis.resume();
      let after: string | null = 'BYPASS';
      for (let i = 0; i < 100 && after === 'BYPASS'; i++) {
        await new Promise((r) => setTimeout(r, 50));
        after = await cacheStatus(h, det(`after pause ${i}`));
      }
      expect(after).toBe('MISS');
      h.lines.length = 0;
      h.gateway.metrics.flush();
      const stage = h.logs().find((l) => l._aws && !('Model' in l) && !('Client' in l));
      expect(stage?.StoreErrors).toBeGreaterThan(0);
    } finally {
      redis.resume();
      await h.stop();
    }
  });

  it('keeps serving while Redis is killed, then uses it again after a restart', async () => {
    const h = await start();
    try {
      await redis.kill();
      const results = await Promise.all(
        Array.from({ length: 5 }, (_, i) =>
          h.client(KEYS.app, { timeout: SDK_TIMEOUT_MS }).chat.completions.create(chatBody(`killed ${i}`)),
        ),
      );
      expect(results).toHaveLength(5);
      expect(await cacheStatus(h, det('killed cacheable'))).toBe('BYPASS');
      await redis.restart();
      await probe.connect().catch(() => undefined);
      let after: string | null = 'BYPASS';
      for (let i = 0; i < 100 && after === 'BYPASS'; i++) {
        await new Promise((r) => setTimeout(r, 50));
        after = await cacheStatus(h, det(`after restart ${i}`));
      }
      expect(after).toBe('MISS');
    } finally {
      await h.stop();
    }
  });

  it('still enforces limits under the shared fallback', async () => {
    const h = await start({
      clients: [{ id: 'app', keySha256: sha(KEYS.app), rpm: 2, tpm: 1_000_000, monthlyBudgetUsd: 1 }],
    });
    try {
      redis.pause();
      const sdk = h.client(KEYS.app, { timeout: SDK_TIMEOUT_MS });
      await sdk.chat.completions.create(chatBody('1'));
      await sdk.chat.completions.create(chatBody('2'));
      await expect(sdk.chat.completions.create(chatBody('3'))).rejects.toBeInstanceOf(OpenAI.RateLimitError);
    } finally {
      redis.resume();
      await h.stop();
    }
  });

  it('keeps ownership of stored responses in Redis: shared by replicas, 503 while Redis hangs, never guessed', async () => {
    const [a, b] = [await start(), await start()];
    try {
      const created = await a
        .client(KEYS.app, { timeout: SDK_TIMEOUT_MS })
        .responses.create({ model: 'fast', input: 'Hi' });
      // Another replica knows whose it is.
      expect((await b.client(KEYS.app).responses.retrieve(created.id)).id).toBe(created.id);
      await expect(b.client(KEYS.other).responses.retrieve(created.id)).rejects.toMatchObject({
        status: 404,
      });
      redis.pause();
      const sdk = a.client(KEYS.app, { timeout: SDK_TIMEOUT_MS, maxRetries: 0 });
      // Naming an object while ownership cannot be read: 503 with Retry-After, nothing sent upstream.
      const before = fake.received;
      const err = (await sdk.responses.retrieve(created.id).catch((e: unknown) => e)) as InstanceType<
        typeof OpenAI.APIError
      >;
      expect(err.status).toBe(503);
      expect(err.headers?.get('retry-after')).toBe('1');
      // A new response is still answered (under the shared fallback). Its owner record may be lost (then
      // it is nobody's, unreachable by id) or land late; it is never anyone else's.
      const orphan = await sdk.responses.create({ model: 'fast', input: 'Hi' });
      expect(orphan.output_text.length).toBeGreaterThan(0);
      expect(fake.received).toBe(before + 1);
      redis.resume();
      await eventually(
        async () =>
          await a
            .client(KEYS.app)
            .responses.retrieve(created.id)
            .then(
              () => true,
              () => false,
            ),
      );
      await expect(b.client(KEYS.other).responses.retrieve(orphan.id)).rejects.toMatchObject({ status: 404 });
    } finally {
      redis.resume();
      await Promise.all([a.stop(), b.stop()]);
    }
  });

  const readyz = async (h: GatewayHarness) => (await fetch(`${h.url.replace(/\/v1$/, '')}/readyz`)).status;
  const waitUntilReady = async (h: GatewayHarness) => {
    for (let i = 0; i < 400 && (await readyz(h)) !== 200; i++) await new Promise((r) => setTimeout(r, 10));
    expect(await readyz(h)).toBe(200);
  };
  const storeErrorsOnFlush = (h: GatewayHarness) => {
    h.lines.length = 0;
    h.gateway.metrics.flush();
    return h.logs().find((l) => l._aws && !('Model' in l) && !('Client' in l))?.StoreErrors;
  };

  it('waits for the first Redis connection before reporting ready', async () => {
    redis.pause();
    let h: GatewayHarness | undefined;
    try {
      h = await start({}, { awaitReady: false });
      // A paused server accepts the TCP connection but never answers: not connected, so not ready yet.
      expect(await readyz(h)).toBe(503);
      redis.resume();
      await waitUntilReady(h);
      expect(await cacheStatus(h, det('first request after start'))).toBe('MISS');
    } finally {
      redis.resume();
      await h?.stop();
    }
  });

  it('reports ready after a bounded wait when Redis is unreachable, and counts requests, not reconnections, as StoreErrors', async () => {
    const port = await freePort();
    const h = await GatewayHarness.start({
      redisUrl: `redis://127.0.0.1:${port}`,
      fake,
      gateway: { redisConnectWaitMs: 200 },
    });
    try {
      await waitUntilReady(h);
      expect(h.lines.join('\n')).toContain('redis not connected at start');
      // Every reconnection attempt failed meanwhile; none of them is a StoreError (no line: nothing to report).
      expect(storeErrorsOnFlush(h) ?? 0).toBe(0);
      expect(await cacheStatus(h, det('no redis'))).toBe('BYPASS');
      expect(storeErrorsOnFlush(h)).toBe(1);
    } finally {
      await h.stop();
    }
  });

  it('counts failed commands and circuit-open fallbacks as StoreErrors, fallback admissions and ledger failures apart, never connection errors', () => {
    let counted = 0;
    const events: string[] = [];
    const listener = countStoreErrors({
      storeError: () => void counted++,
      storeEvent: (event) => void events.push(event),
    });
    listener('connection', new StoreOperationError('connection', new Error('ECONNREFUSED')));
    expect(counted).toBe(0);
    listener('admit', new StoreOperationError('admit', new Error('timeout')));
    listener('admit', new CircuitOpenError('admit'));
    listener('settle', new StoreOperationError('settle', new Error('timeout')));
    listener('ledgerWrite', new Error('throttled'));
    listener('ledgerRead', new Error('throttled'));
    expect(counted).toBe(3);
    expect(events).toEqual([
      'fallbackAdmissions',
      'fallbackAdmissions',
      'ledgerWriteErrors',
      'ledgerReadErrors',
    ]);
  });

  it('logs a failing ledger at most once a minute per operation, with the failures it stands for', () => {
    const lines: Array<Record<string, unknown>> = [];
    let now = 0;
    const warn = ledgerWarnings(
      (fields) => void lines.push(fields),
      () => now,
    );
    warn('ledgerWrite', new Error('throttled'));
    warn('ledgerWrite', new Error('throttled'));
    warn('ledgerRead', new Error('gone'));
    now = 59_999;
    warn('ledgerWrite', new Error('throttled'));
    now = 60_000;
    warn('ledgerWrite', new Error('still throttled'));
    expect(lines).toEqual([
      { operation: 'ledgerWrite', failures: 1, err: 'throttled' },
      { operation: 'ledgerRead', failures: 1, err: 'gone' },
      { operation: 'ledgerWrite', failures: 3, err: 'still throttled' },
    ]);
  });

  it('answers 503 without calling upstream under the closed fallback', async () => {
    const h = await start({ store: { fallback: 'closed', commandTimeoutMs: 50 } });
    try {
      redis.pause();
      const err = await h
        .client(KEYS.app, { timeout: SDK_TIMEOUT_MS })
        .chat.completions.create(chatBody('closed'))
        .catch((e: unknown) => e);
      expect(err).toMatchObject({ status: 503 });
      expect(fake.received).toBe(0);
    } finally {
      redis.resume();
      await h.stop();
    }
  });
});
