/**
 * A Redis that answers some commands and fails others (an overloaded node, a flapping link): the
 * circuit stays closed, admissions alternate between Redis and the `shared` fallback, and neither
 * hands out more because of the other. The fallback's spend is in Redis before Redis admits again,
 * and a timeout after an answer continues the replica's outage instead of starting a fresh share.
 * Real redis-server and RedisStore; only which admissions fail is chosen by the test.
 */
import { CircuitBreaker, RedisStore, ResilientStore } from '../../../service/store';
import { connectRedis } from '../../../service/store/redis-connection';
import type { AdmissionRequest } from '../../../service/store/types';
import { RedisServer } from '../../support/redis-server';
import { request, roomy, uniqueStage } from './store-harness';

let server: RedisServer;
beforeAll(async () => {
  server = await RedisServer.start();
});
afterAll(() => server?.stop());

/** One replica whose admissions fail, before reaching Redis, while `failing` is set. */
function flappingReplica() {
  const redis = connectRedis({ url: server.url, commandTimeoutMs: 1_000 });
  const primary = new RedisStore({ redis, stage: uniqueStage() });
  const control = { failing: false };
  const flapping = new Proxy(primary, {
    get(target, property, receiver) {
      if (property === 'admit' && control.failing)
        return () => Promise.reject(new Error('Command timed out'));
      const value: unknown = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  const store = new ResilientStore({
    primary: flapping,
    // Never opens: every admission tries Redis, so answers and failures interleave.
    breaker: new CircuitBreaker({ failureThreshold: 1_000 }),
    cacheBreaker: new CircuitBreaker(),
    fallback: 'shared',
    replicas: 1,
  });
  return { store, control };
}

/** A replica connected to Redis, so that no admission fails but those the test chooses. */
async function connectedReplica() {
  const replica = flappingReplica();
  if (!(await replica.store.whenConnected(10_000))) throw new Error('redis-server never answered');
  return replica;
}

async function admit(store: ResilientStore, make: () => AdmissionRequest, times: number) {
  const decisions = [];
  for (let i = 0; i < times; i++) decisions.push(await store.admit(make()));
  return decisions;
}

const admitted = (decisions: ReadonlyArray<{ readonly ok: boolean }>) => decisions.filter((d) => d.ok).length;

describe('Redis answering some commands and failing others', () => {
  let replica: ReturnType<typeof flappingReplica>;
  afterEach(() => replica?.store.close());

  it('never admits past the budget: the fallback spend is in Redis before Redis admits again', async () => {
    replica = await connectedReplica();
    const { store, control } = replica;
    const cost = 1_000_000;
    const make = () => request({ costNanos: cost, client: { ...roomy, budgetNanos: 4 * cost } });
    control.failing = true;
    const inOutage = await admit(store, make, 6);
    control.failing = false;
    const onRedis = await admit(store, make, 2);
    control.failing = true;
    const inNextTimeouts = await admit(store, make, 6);
    control.failing = false;
    // The fallback took the whole budget; Redis then knew it, and the next timeouts were the same outage.
    expect([inOutage, onRedis, inNextTimeouts].map(admitted)).toEqual([4, 0, 0]);
    expect(onRedis).toEqual(
      [0, 1].map(() => expect.objectContaining({ reason: 'client_budget', degraded: false })),
    );
    expect(await store.monthToDateSpendNanos()).toBe(4 * cost);
  });

  it('keeps the fallback buckets from one timeout to the next: at most the limit on each side', async () => {
    replica = await connectedReplica();
    const { store, control } = replica;
    const rpm = 10;
    const make = () => request({ costNanos: 0, client: { ...roomy, rpm } });
    const decisions = [];
    for (let i = 0; i < 40; i++) {
      control.failing = i % 2 === 0;
      decisions.push(await store.admit(make()));
    }
    // Redis's buckets never see what the fallback admitted, so the two sides each admit up to the limit.
    expect(admitted(decisions.filter((d) => d.degraded))).toBe(rpm);
    expect(admitted(decisions.filter((d) => !d.degraded))).toBe(rpm);
  });
});
