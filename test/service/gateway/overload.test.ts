/**
 * Overload: an overloaded gateway sheds load (503 `gateway_overloaded` with Retry-After, before any
 * work) and never mistakes its own event-loop delay for a Redis failure. The first block overloads the
 * loop on purpose (a busy wait on every turn) and checks what is shed and what keeps answering; the
 * second hammers one replica with 200 connections against a healthy redis-server and counts what the
 * fake upstream served. Assertions are on counts and statuses, never on elapsed time.
 */
import { Pool } from 'undici';
import { GatewayMetric } from '../../../runtime/metric-names';
import { GATEWAY_DEFAULTS } from '../../../service/main/options';
import { createStore, ResilientStore } from '../../../service/store';
import type { AdmissionRequest } from '../../../service/store/types';
import { parseGatewayConfig } from '../../../runtime/gateway-config';
import { MID_MONTH_MS, TestClock } from '../../support/clock';
import { eventually } from '../../support/eventually';
import { FakeOpenAI } from '../../support/fake-openai';
import { chatBody, GatewayHarness, KEYS, testConfigDocument } from '../../support/gateway-harness';
import { RedisServer } from '../../support/redis-server';

jest.setTimeout(60_000);

/** Holds the event loop, as a starved gateway does. */
function busyWait(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // spin
  }
}

/** Keeps the loop overloaded: every turn of it spends `ms` busy. Returns the stop function. */
function overloadLoop(ms: number): () => void {
  const timer = setInterval(() => busyWait(ms), 1);
  return () => clearInterval(timer);
}

interface Answer {
  readonly status: number;
  readonly retryAfter: string | undefined;
  readonly code: string | null | undefined;
  readonly type: string | undefined;
}

async function send(pool: Pool, path: string, body: unknown, key: string = KEYS.app): Promise<Answer> {
  const res = await pool.request({
    method: body === undefined ? 'GET' : 'POST',
    path,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.body.text();
  const retryAfter = res.headers['retry-after'];
  const parsed = (text.startsWith('{') ? JSON.parse(text) : {}) as {
    error?: { code: string | null; type: string };
  };
  return {
    status: res.statusCode,
    retryAfter: typeof retryAfter === 'string' ? retryAfter : undefined,
    code: parsed.error?.code,
    type: parsed.error?.type,
  };
}

describe('load shedding', () => {
  let h: GatewayHarness;
  let pool: Pool;
  beforeEach(async () => {
    h = await GatewayHarness.start({
      gateway: { shedEventLoopDelayMs: 5, shedSampleIntervalMs: 20, shedRetryAfterSeconds: 3 },
    });
    pool = new Pool(new URL(h.url).origin, { connections: 4 });
  });
  afterEach(async () => {
    await pool.close();
    await h.stop();
  });

  it('answers /v1 503 gateway_overloaded with Retry-After before any work, keeps /healthz and /readyz up, and counts the shed', async () => {
    await eventually(() => h.gateway.ready, 5_000);
    const stop = overloadLoop(30);
    let shed: Answer;
    let health: Answer;
    let ready: Answer;
    try {
      // The first sample after the loop got busy turns shedding on.
      await eventually(async () => (await send(pool, '/v1/models', undefined)).status === 503, 10_000);
      shed = await send(pool, '/v1/chat/completions', chatBody('shed me'));
      health = await send(pool, '/healthz', undefined);
      ready = await send(pool, '/readyz', undefined);
    } finally {
      stop();
    }
    expect(shed).toEqual({ status: 503, retryAfter: '3', code: 'gateway_overloaded', type: 'server_error' });
    expect(health.status).toBe(200);
    expect(ready.status).toBe(200);
    // Nothing reached the upstream, nothing was reserved.
    expect(h.fake.received).toBe(0);
    expect(h.fake.billed).toHaveLength(0);

    // Once the loop is free again, requests are served.
    await eventually(
      async () => (await send(pool, '/v1/chat/completions', chatBody('served'))).status === 200,
      10_000,
    );
    expect(h.fake.billed).toHaveLength(1);

    await h.gateway.flushMetrics();
    const stage = h
      .logs()
      .find((l) => l._aws !== undefined && l.Client === undefined && l.Model === undefined);
    const client = h.logs().find((l) => l._aws !== undefined && l.Client === 'app');
    expect(stage?.[GatewayMetric.shed]).toBeGreaterThanOrEqual(2);
    expect(client?.[GatewayMetric.shed]).toBe(stage?.[GatewayMetric.shed]);
    // Each shed request has its request line (status 503), and no error line of its own.
    const lines = h.logs().filter((l) => l._aws === undefined);
    expect(lines.filter((l) => l.msg === 'request completed' && l.status === 503).length).toBe(
      stage?.[GatewayMetric.shed],
    );
    expect(lines.filter((l) => l.level === 'error')).toEqual([]);
  });

  it('refuses a caller without a valid key 401 before shedding it', async () => {
    const stop = overloadLoop(30);
    try {
      await eventually(async () => (await send(pool, '/v1/models', undefined)).status === 503, 10_000);
      expect((await send(pool, '/v1/models', undefined, 'sk-not-a-key')).status).toBe(401);
    } finally {
      stop();
    }
  });
});

/** Sends `offered` chat completions over `workers` concurrent connections of `pool`; their answers. */
async function hammer(
  pool: Pool,
  load: { workers: number; offered: number; tag: string },
): Promise<Answer[]> {
  const answers: Answer[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: load.workers }, async () => {
      while (next < load.offered) {
        const body = chatBody(`${load.tag} ${next++}`, { temperature: 0.7 });
        answers.push(await send(pool, '/v1/chat/completions', body));
      }
    }),
  );
  return answers;
}

describe('200 connections on one replica, Redis healthy', () => {
  const LIMIT_RPM = 600;
  const CONNECTIONS = 200;
  /**
   * Admitted before the overload, with the loop free: the client has 60 of its 600 left for the
   * minute. (The store's clock stands still, so nothing refills; Redis expires a rate key after its
   * TAT minus now in real time, so the bucket is filled quickly, before the slow part, to outlive the run.)
   */
  const WARM = LIMIT_RPM - 60;
  const OFFERED = 2 * LIMIT_RPM;
  /** Each turn of the loop holds it longer than the 50 ms command timeout, below the 100 ms shedding threshold. */
  const BUSY_TURN_MS = 60;
  let redis: RedisServer;
  let fake: FakeOpenAI;
  beforeAll(async () => {
    redis = await RedisServer.start();
    fake = new FakeOpenAI({ delayMs: 20, record: false });
    await fake.start();
  });
  afterAll(async () => {
    await fake.stop();
    await redis.stop();
  });

  it('admits at most the limit + 1%, never from the fallback, and every shed answer carries Retry-After', async () => {
    const clients = (testConfigDocument().clients as Array<Record<string, unknown>>).map((c) =>
      c.id === 'app' ? { ...c, rpm: LIMIT_RPM, maxConcurrentCalls: CONNECTIONS } : c,
    );
    const clock = new TestClock(MID_MONTH_MS);
    const reported: string[] = [];
    const store = createStore({
      config: parseGatewayConfig(testConfigDocument({ clients })),
      redisUrl: redis.url,
      now: clock.now,
      onError: (operation) => reported.push(operation),
    }) as ResilientStore;
    let degraded = 0;
    const admit = store.admit.bind(store);
    store.admit = async (request: AdmissionRequest) => {
      const decision = await admit(request);
      if (decision.degraded) degraded++;
      return decision;
    };
    // Shedding as deployed (the harness turns it off for other tests).
    const h = await GatewayHarness.start({
      config: { clients },
      store,
      fake,
      gateway: { clock: clock.now, shedEventLoopDelayMs: GATEWAY_DEFAULTS.shedEventLoopDelayMs },
    });
    const pool = new Pool(new URL(h.url).origin, { connections: CONNECTIONS });
    let warm: Answer[];
    let answers: Answer[];
    let stop = (): void => undefined;
    try {
      expect(await store.whenConnected(10_000)).toBe(true);
      warm = await hammer(pool, { workers: 20, offered: WARM, tag: 'warm' });
      // The gateway's own work on a busy task, sharing one loop with its load.
      stop = overloadLoop(BUSY_TURN_MS);
      answers = await hammer(pool, { workers: CONNECTIONS, offered: OFFERED, tag: 'overload' });
    } finally {
      stop();
      await pool.close();
      await h.stop();
    }
    // Warm-up is served, but for what a loaded machine's own stalls shed (the check working, as below).
    const warmServed = warm.filter((a) => a.status === 200).length;
    expect(warm.every((a) => a.status === 200 || (a.status === 503 && a.code === 'gateway_overloaded'))).toBe(
      true,
    );
    expect(warmServed).toBeGreaterThan(WARM / 2);
    const served = answers.filter((a) => a.status === 200).length;
    const shed = answers.filter((a) => a.status === 503);
    const limited = answers.filter((a) => a.status === 429);
    expect(fake.billed.length).toBeLessThanOrEqual(LIMIT_RPM * 1.01);
    expect(warmServed + served).toBe(fake.billed.length);
    expect(degraded).toBe(0);
    expect(reported).toEqual([]);
    expect(served + shed.length + limited.length).toBe(OFFERED);
    expect(shed.every((a) => a.code === 'gateway_overloaded' && a.retryAfter !== undefined)).toBe(true);
    expect(limited.every((a) => a.code === 'rate_limit_exceeded' && a.retryAfter !== undefined)).toBe(true);
  });
});
