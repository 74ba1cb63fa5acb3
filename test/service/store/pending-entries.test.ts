/**
 * Pending entries (background responses, batches), in process and in a real redis-server: an entry
 * survives the replica that wrote it, lists come oldest first and read a long list in turns, concurrent
 * claims of one entry give it to exactly one claimer, a malformed entry is no entry, and behind the
 * breaker a failing Redis rejects (nothing is guessed).
 */
import Redis from 'ioredis';
import { CircuitBreaker } from '../../../service/store/circuit-breaker';
import { CircuitOpenError } from '../../../service/store/errors';
import {
  GuardedPendingEntries,
  MemoryPendingEntries,
  readPendingBatch,
  readPendingResponse,
  RedisPendingEntries,
} from '../../../service/store/pending-entries';
import type { PendingBatch, PendingEntries } from '../../../service/store/types';
import { RedisServer } from '../../support/redis-server';

const TICKET = {
  clientId: 'app',
  tokens: 0,
  costNanos: 12_345,
  month: '2026-06',
  client: { rpm: 10, tpm: 1000, budgetNanos: 1e9 },
  stage: { rpm: 10, tpm: 1000, budgetNanos: 1e9, burstMs: 60_000 },
};
const batch = (id: string, heldAt = 1): PendingBatch => ({
  id,
  clientId: 'app',
  model: 'gpt-4o-mini',
  ticket: TICKET,
  heldAt,
});

function conformance(name: string, make: () => PendingEntries<PendingBatch>) {
  describe(name, () => {
    it('keeps an entry until it is claimed, and lists it meanwhile', async () => {
      const entries = make();
      await entries.hold(batch('batch_1'));
      expect(await entries.list(10)).toEqual([batch('batch_1')]);
      expect(await entries.claim('batch_1')).toEqual(batch('batch_1'));
      expect(await entries.list(10)).toEqual([]);
      expect(await entries.claim('batch_1')).toBeUndefined();
    });

    it('gives an entry to exactly one of many concurrent claims', async () => {
      const entries = make();
      await entries.hold(batch('batch_2'));
      const claims = await Promise.all(Array.from({ length: 8 }, () => entries.claim('batch_2')));
      expect(claims.filter((c) => c !== undefined)).toEqual([batch('batch_2')]);
    });

    it('lists oldest first, and a long list in turns that wrap around, so none waits forever', async () => {
      const entries = make();
      const held = Array.from({ length: 25 }, (_, i) =>
        batch(`batch_${String(i).padStart(2, '0')}`, 100 + i),
      );
      for (const entry of [...held].reverse()) await entries.hold(entry);
      expect((await entries.list(3)).map((e) => e.id)).toEqual(['batch_00', 'batch_01', 'batch_02']);
      const seen = new Set<string>();
      for (let from = 0; from < held.length; from += 10) {
        const window = await entries.list(10, from);
        expect(window).toHaveLength(10);
        for (const e of window) seen.add(e.id);
      }
      expect(seen.size).toBe(held.length);
      expect((await entries.list(10, 20)).map((e) => e.id).slice(5)).toEqual(
        held.slice(0, 5).map((e) => e.id),
      );
    });
  });
}

conformance('MemoryPendingEntries', () => new MemoryPendingEntries<PendingBatch>());

describe('RedisPendingEntries', () => {
  let server: RedisServer;
  const clients: Redis[] = [];
  let namespace = 0;
  const connect = () => {
    const redis = new Redis(server.url, { maxRetriesPerRequest: 1 });
    clients.push(redis);
    return redis;
  };
  const batches = (redis = connect(), ns = 'oai:test:batch') =>
    new RedisPendingEntries(redis, ns, readPendingBatch);
  beforeAll(async () => {
    server = await RedisServer.start();
  });
  afterAll(async () => {
    for (const c of clients) c.disconnect();
    await server.stop();
  });

  conformance('against redis-server', () => batches(connect(), `oai:test${++namespace}:batch`));

  it('is shared by replicas: one writes, two others race to claim, one wins', async () => {
    await batches().hold(batch('batch_3'));
    const a = batches();
    const b = batches();
    const claims = await Promise.all([a.claim('batch_3'), b.claim('batch_3'), a.claim('batch_3')]);
    expect(claims.filter((c) => c !== undefined)).toHaveLength(1);
  });

  it('reads a malformed or foreign entry as none (its reservation then stays held), and keeps stages apart', async () => {
    const redis = connect();
    await redis.set('oai:test:batch:batch_bad', '{"clientId":5}');
    await redis.zadd('oai:test:batch', 1, 'batch_bad');
    expect(await batches(redis).claim('batch_bad')).toBeUndefined();
    // A background response's reader refuses a batch's entry: each kind reads only its own.
    await redis.set('oai:test:bg:resp_1', JSON.stringify(batch('resp_1')));
    expect(
      await new RedisPendingEntries(redis, 'oai:test:bg', readPendingResponse).claim('resp_1'),
    ).toBeUndefined();
    await batches(redis, 'oai:other:batch').hold(batch('batch_4'));
    expect(await batches(redis).claim('batch_4')).toBeUndefined();
  });
});

describe('GuardedPendingEntries', () => {
  it('rejects while the circuit is open, and reports every failure', async () => {
    const errors: string[] = [];
    const failing: PendingEntries<PendingBatch> = {
      hold: () => Promise.reject(new Error('down')),
      list: () => Promise.reject(new Error('down')),
      claim: () => Promise.reject(new Error('down')),
    };
    const guarded = new GuardedPendingEntries(
      failing,
      new CircuitBreaker({ failureThreshold: 1, cooldownMs: 60_000, now: () => 0 }),
      (operation) => errors.push(operation),
    );
    await expect(guarded.hold(batch('batch_1'))).rejects.toThrow('down');
    await expect(guarded.claim('batch_1')).rejects.toBeInstanceOf(CircuitOpenError);
    expect(errors).toEqual(['pending_hold', 'pending_claim']);
  });
});
