/**
 * Pending batches, in process and in a real redis-server: a record survives the replica that wrote it,
 * concurrent claims of one batch give it to exactly one claimer, a malformed record is no record, and
 * behind the breaker a failing Redis rejects (nothing is guessed).
 */
import Redis from 'ioredis';
import { CircuitBreaker } from '../../../service/store/circuit-breaker';
import { CircuitOpenError } from '../../../service/store/errors';
import {
  GuardedPendingBatches,
  MemoryPendingBatches,
  RedisPendingBatches,
} from '../../../service/store/pending-batches';
import type { PendingBatch, PendingBatches } from '../../../service/store/types';
import { RedisServer } from '../../support/redis-server';

const PENDING: PendingBatch = {
  clientId: 'app',
  model: 'gpt-4o-mini',
  ticket: {
    clientId: 'app',
    tokens: 0,
    costNanos: 12_345,
    month: '2026-06',
    client: { rpm: 10, tpm: 1000, budgetNanos: 1e9 },
    stage: { rpm: 10, tpm: 1000, budgetNanos: 1e9, burstMs: 60_000 },
  },
};

function conformance(name: string, make: () => PendingBatches) {
  describe(name, () => {
    it('keeps a record until it is claimed, and lists its id meanwhile', async () => {
      const batches = make();
      await batches.add('batch_1', PENDING);
      expect(await batches.ids()).toContain('batch_1');
      expect(await batches.get('batch_1')).toEqual(PENDING);
      expect(await batches.claim('batch_1')).toEqual(PENDING);
      expect(await batches.get('batch_1')).toBeUndefined();
      expect(await batches.ids()).not.toContain('batch_1');
      expect(await batches.claim('batch_1')).toBeUndefined();
    });

    it('gives a batch to exactly one of many concurrent claims', async () => {
      const batches = make();
      await batches.add('batch_2', PENDING);
      const claims = await Promise.all(Array.from({ length: 8 }, () => batches.claim('batch_2')));
      expect(claims.filter((c) => c !== undefined)).toEqual([PENDING]);
    });
  });
}

conformance('MemoryPendingBatches', () => new MemoryPendingBatches());

describe('RedisPendingBatches', () => {
  let server: RedisServer;
  const clients: Redis[] = [];
  const connect = () => {
    const redis = new Redis(server.url, { maxRetriesPerRequest: 1 });
    clients.push(redis);
    return redis;
  };
  beforeAll(async () => {
    server = await RedisServer.start();
  });
  afterAll(async () => {
    for (const c of clients) c.disconnect();
    await server.stop();
  });

  conformance('against redis-server', () => new RedisPendingBatches(connect(), 'oai:test:'));

  it('is shared by replicas: one writes, two others race to claim, one wins', async () => {
    await new RedisPendingBatches(connect(), 'oai:test:').add('batch_3', PENDING);
    const a = new RedisPendingBatches(connect(), 'oai:test:');
    const b = new RedisPendingBatches(connect(), 'oai:test:');
    const claims = await Promise.all([a.claim('batch_3'), b.claim('batch_3'), a.claim('batch_3')]);
    expect(claims.filter((c) => c !== undefined)).toHaveLength(1);
  });

  it('reads a malformed record as none (its reservation then stays held), and keeps stages apart', async () => {
    const redis = connect();
    await redis.hset('oai:test:batches', 'batch_bad', '{"clientId":5}');
    expect(await new RedisPendingBatches(redis, 'oai:test:').get('batch_bad')).toBeUndefined();
    await new RedisPendingBatches(redis, 'oai:other:').add('batch_4', PENDING);
    expect(await new RedisPendingBatches(redis, 'oai:test:').get('batch_4')).toBeUndefined();
  });
});

describe('GuardedPendingBatches', () => {
  it('rejects while the circuit is open, and reports every failure', async () => {
    const errors: string[] = [];
    const failing: PendingBatches = {
      add: () => Promise.reject(new Error('down')),
      ids: () => Promise.reject(new Error('down')),
      get: () => Promise.reject(new Error('down')),
      claim: () => Promise.reject(new Error('down')),
    };
    const guarded = new GuardedPendingBatches(
      failing,
      new CircuitBreaker({ failureThreshold: 1, cooldownMs: 60_000, now: () => 0 }),
      (operation) => errors.push(operation),
    );
    await expect(guarded.add('batch_1', PENDING)).rejects.toThrow('down');
    await expect(guarded.claim('batch_1')).rejects.toBeInstanceOf(CircuitOpenError);
    expect(errors).toEqual(['batch_add', 'batch_claim']);
  });
});
