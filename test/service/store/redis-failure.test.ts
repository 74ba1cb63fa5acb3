/**
 * Redis trouble never fails or hangs a request. Each test runs its own redis-server and breaks it:
 * SIGSTOP (a hung node: commands time out), SIGKILL (a dead node: commands fail at once), a wrong
 * AUTH token, or nothing listening at all. Assertions are on outcomes and on how many commands the
 * store handed to Redis, never on elapsed time.
 */
import {
  CircuitOpenError,
  createStore,
  ResilientStore,
  StoreOperationError,
  type CreateStoreOptions,
  type GatewayStore,
} from '../../../service/store';
import type { StoreFallback } from '../../../runtime/gateway-config';
import { eventually } from '../../support/eventually';
import { freePort, RedisServer } from '../../support/redis-server';
import { gatewayConfig, request, roomy, uniqueStage } from './store-harness';

jest.setTimeout(20_000);

interface Reported {
  readonly operation: string;
  readonly error: unknown;
}

const servers: RedisServer[] = [];
const stores: GatewayStore[] = [];
afterEach(async () => {
  await Promise.all(stores.splice(0).map((store) => store.close()));
  await Promise.all(servers.splice(0).map((server) => server.stop()));
});

/** A store connected to a healthy server, as a gateway is once it has started. */
async function connectedStore(
  server: RedisServer,
  fallback: StoreFallback,
  extra: Partial<CreateStoreOptions> = {},
): Promise<{ store: ResilientStore; reported: Reported[] }> {
  const guarded = guardedStore(server.url, fallback, extra);
  expect(await guarded.store.whenConnected(10_000)).toBe(true);
  return guarded;
}

async function startServer(password?: string): Promise<RedisServer> {
  const server = await RedisServer.start({ password });
  servers.push(server);
  return server;
}

/** The breakers' clock: a cooldown passes only when a test says so. */
const breakerClock = { ms: 0 };
const COOLDOWN_MS = 1_000;
/** Lets the open circuit's cooldown pass, so that the next call probes Redis. */
function coolDown(): void {
  breakerClock.ms += COOLDOWN_MS;
}

function guardedStore(
  redisUrl: string,
  fallback: StoreFallback,
  extra: Partial<CreateStoreOptions> = {},
): { store: ResilientStore; reported: Reported[] } {
  const reported: Reported[] = [];
  const store = createStore({
    config: gatewayConfig(uniqueStage(), { fallback, commandTimeoutMs: 100 }),
    redisUrl,
    onError: (operation, error) => reported.push({ operation, error }),
    circuit: { failureThreshold: 3, cooldownMs: COOLDOWN_MS, now: () => breakerClock.ms },
    ...extra,
  });
  if (!(store instanceof ResilientStore))
    throw new Error('createStore with a URL must guard the Redis store');
  stores.push(store);
  return { store, reported };
}

/** After Redis is back: lets cooldowns pass until an admission is answered by Redis again. */
async function recovers(store: ResilientStore): Promise<void> {
  await eventually(
    async () => {
      coolDown();
      return !(await store.admit(request())).degraded;
    },
    10_000,
    25,
  );
}

/** Admissions until the circuit opens; returns their decisions. */
async function admitUntilOpen(store: ResilientStore, make = () => request()): Promise<unknown[]> {
  const decisions = [];
  for (let i = 0; i < 10 && store.circuitState !== 'open'; i++) decisions.push(await store.admit(make()));
  expect(store.circuitState).toBe('open');
  return decisions;
}

describe('Redis hung (SIGSTOP)', () => {
  it('answers from the shared fallback within the command timeout, opens the circuit, then skips Redis until it is back', async () => {
    const server = await startServer();
    const { store, reported } = await connectedStore(server, 'shared');
    const client = { ...roomy, rpm: 5 };
    expect(await store.admit(request({ client }))).toMatchObject({ ok: true, degraded: false });

    server.pause();
    const first = await store.admit(request({ client }));
    expect(first).toMatchObject({ ok: true, degraded: true, cached: null });
    expect(reported[0].operation).toBe('admit');
    expect(reported[0].error).toBeInstanceOf(StoreOperationError);
    expect((reported[0].error as Error).message).toMatch(/timed out/);

    await admitUntilOpen(store, () => request({ client }));
    const sentWhenOpened = store.redisCommandsSent;
    const whileOpen = [];
    for (let i = 0; i < 10; i++) whileOpen.push(await store.admit(request({ client })));
    expect(store.redisCommandsSent).toBe(sentWhenOpened);
    expect(whileOpen.every((d) => d.degraded)).toBe(true);
    // The shared fallback enforces the client's 5 RPM in this process (one replica): some, then refused.
    expect(whileOpen.filter((d) => d.ok).length).toBeLessThan(5);
    expect(whileOpen.at(-1)).toMatchObject({ ok: false, reason: 'requests', degraded: true });
    expect(reported.filter((r) => r.error instanceof CircuitOpenError).length).toBeGreaterThanOrEqual(10);
    expect(await store.monthToDateSpendNanos()).toBeUndefined();

    // After the cooldown one call probes Redis, still hung: it times out and the circuit reopens.
    coolDown();
    expect(await store.admit(request({ client }))).toMatchObject({ degraded: true });
    expect(store.redisCommandsSent).toBe(sentWhenOpened + 1);
    expect(store.circuitState).toBe('open');
    await store.admit(request({ client }));
    expect(store.redisCommandsSent).toBe(sentWhenOpened + 1);

    server.resume();
    await recovers(store);
    expect(store.circuitState).toBe('closed');
    expect(store.redisCommandsSent).toBeGreaterThan(sentWhenOpened);
    expect(await store.monthToDateSpendNanos()).toBeGreaterThan(0);
  });

  it('reports and swallows failed settlements and cache writes', async () => {
    const server = await startServer();
    const { store, reported } = await connectedStore(server, 'shared');
    const decision = await store.admit(request({ tokens: 500 }));
    if (!decision.ok) throw new Error('expected admission');

    server.pause();
    await expect(store.settle(decision.ticket, { tokens: 10, costNanos: 10 })).resolves.toBeUndefined();
    await expect(store.cacheSet('key', 'value', 60)).resolves.toBeUndefined();
    expect(reported.map((r) => r.operation)).toEqual(['settle', 'cacheSet']);
    expect(reported.every((r) => r.error instanceof StoreOperationError)).toBe(true);
    server.resume();
  });

  it('settles a ticket of the shared fallback locally, without Redis', async () => {
    const server = await startServer();
    const { store } = await connectedStore(server, 'shared');
    // Redis reports the client's spend at each admission: the base its share starts from.
    expect(await store.admit(request())).toMatchObject({ ok: true, degraded: false });
    server.pause();
    const client = { ...roomy, tpm: 1_000 };
    await admitUntilOpen(store, () => request({ clientId: 'other' }));
    const local = await store.admit(request({ client, tokens: 1_000 }));
    if (!local.ok) throw new Error('expected a local admission');
    expect(local.degraded).toBe(true);
    expect(await store.admit(request({ client, tokens: 1 }))).toMatchObject({ ok: false, reason: 'tokens' });

    const sent = store.redisCommandsSent;
    await store.settle(local.ticket, { tokens: 0, costNanos: 0 });
    expect(store.redisCommandsSent).toBe(sent);
    expect(await store.admit(request({ client, tokens: 1_000 }))).toMatchObject({ ok: true, degraded: true });
    server.resume();
  });
});

describe('Redis killed (SIGKILL) and restarted', () => {
  it('falls back at once while the connection is down and uses Redis again after a restart', async () => {
    const server = await startServer();
    const { store, reported } = await connectedStore(server, 'shared');
    expect(await store.admit(request())).toMatchObject({ ok: true, degraded: false });

    await server.kill();
    const decisions = await admitUntilOpen(store);
    expect(decisions).toContainEqual(expect.objectContaining({ ok: true, degraded: true }));
    const sentWhenOpened = store.redisCommandsSent;
    for (let i = 0; i < 5; i++) expect(await store.admit(request())).toMatchObject({ degraded: true });
    expect(store.redisCommandsSent).toBe(sentWhenOpened);
    expect(reported.some((r) => r.error instanceof StoreOperationError)).toBe(true);

    await server.restart();
    await recovers(store);
    expect(store.circuitState).toBe('closed');
  });
});

describe('fallback policies', () => {
  it('open: admits without limits, with full header values, no cache read, and a ticket that never reaches Redis', async () => {
    const server = await startServer();
    const { store } = await connectedStore(server, 'open');
    await store.cacheSet('cached', 'value', 60);
    server.pause();
    const client = { rpm: 1, tpm: 10, budgetNanos: 1 };
    await admitUntilOpen(store, () =>
      request({ client, tokens: 1_000, costNanos: 1_000, cacheKey: 'cached' }),
    );
    const decision = await store.admit(
      request({ client, tokens: 1_000, costNanos: 1_000, cacheKey: 'cached' }),
    );
    expect(decision).toEqual({
      ok: true,
      degraded: true,
      cached: null,
      rateLimit: {
        limitRequests: 1,
        remainingRequests: 1,
        limitTokens: 10,
        remainingTokens: 10,
        resetRequestsMs: 0,
        resetTokensMs: 0,
      },
      ticket: expect.objectContaining({ clientId: 'app', tokens: 1_000, costNanos: 1_000 }),
    });
    const sent = store.redisCommandsSent;
    server.resume();
    if (!decision.ok) throw new Error('unreachable');
    await store.settle(decision.ticket, { tokens: 3, costNanos: 3 });
    expect(store.redisCommandsSent).toBe(sent);
  });

  it('closed: refuses with reason unavailable and a Retry-After', async () => {
    const server = await startServer();
    const { store } = await connectedStore(server, 'closed');
    server.pause();
    const decisions = await admitUntilOpen(store);
    expect(decisions[0]).toMatchObject({
      ok: false,
      reason: 'unavailable',
      degraded: true,
      retryAfterSeconds: 1,
    });
    expect(await store.admit(request())).toMatchObject({ ok: false, reason: 'unavailable', degraded: true });
    server.resume();
  });
});

describe('AUTH', () => {
  it('authenticates with the token given apart from the URL', async () => {
    const server = await startServer('correct-horse');
    const { store, reported } = guardedStore(server.urlWithoutPassword, 'closed', {
      redisAuthToken: 'correct-horse',
    });
    expect(await store.admit(request())).toMatchObject({ ok: true, degraded: false });
    expect(reported).toEqual([]);
  });

  it('reports a wrong token and falls back, without the token in any report', async () => {
    const server = await startServer('correct-horse');
    const { store, reported } = guardedStore(server.urlWithoutPassword, 'open', {
      redisAuthToken: 'wrong-token',
    });
    const decision = await store.admit(request({ clientId: 'client-id-x', cacheKey: 'cache-key-x' }));
    expect(decision).toMatchObject({ ok: true, degraded: true });
    await eventually(
      async () => reported.some((r) => /WRONGPASS|NOAUTH|invalid/i.test(String(r.error))),
      10_000,
      25,
    );
    const text = reported
      .map((r) => `${r.operation} ${String(r.error)} ${JSON.stringify(r.error)}`)
      .join('\n');
    expect(text).not.toMatch(/wrong-token|client-id-x|cache-key-x/);
  });
});

it('answers the first request when nothing listens at the Redis address', async () => {
  const port = await freePort();
  const { store, reported } = guardedStore(`redis://127.0.0.1:${port}`, 'shared');
  expect(await store.admit(request())).toMatchObject({ ok: true, degraded: true });
  expect(reported.some((r) => r.operation === 'admit')).toBe(true);
});
