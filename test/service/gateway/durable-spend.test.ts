/**
 * Budgets that outlive the cache: replicas share a real redis-server and a real DynamoDB-compatible
 * ledger (dynalite). Redis is flushed, and killed and restarted empty; a client that spent its budget
 * stays refused, and what it was served is bounded by its budget plus the increments not yet written
 * when Redis lost them (the stated loss window). Spend is what the fake upstream billed.
 */
import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import Redis from 'ioredis';
import { createHash } from 'node:crypto';
import { utcMonth } from '../../../runtime/clock';
import { costNanos } from '../../../runtime/pricing';
import { SpendLedgerAttribute, SpendLedgerKey, STAGE_SCOPE } from '../../../runtime/spend-ledger-schema';
import { DynamoSpendLedger, ResilientStore } from '../../../service/store';
import { flowingClock } from '../../support/clock';
import { DynaliteServer } from '../../support/dynalite-server';
import { eventually } from '../../support/eventually';
import { FakeOpenAI } from '../../support/fake-openai';
import { chatBody, GatewayHarness, KEYS } from '../../support/gateway-harness';
import { RedisServer } from '../../support/redis-server';
import { apiErrorOf } from '../../support/refusal';

jest.setTimeout(60_000);

const PRICE = { inputUsdPer1M: 0.15, outputUsdPer1M: 0.6 };
/** The worst case of `chatBody()` with the harness's default cap: 10 prompt tokens + 100 output tokens. */
const WORST_CASE_NANOS = 10 * 150 + 100 * 600;
const sha = (s: string) => createHash('sha256').update(s).digest('hex');

let redis: RedisServer;
let inspect: Redis;
let dynamo: DynaliteServer;
let fake: FakeOpenAI;
let stages = 0;
beforeAll(async () => {
  [redis, dynamo] = await Promise.all([RedisServer.start(), DynaliteServer.start()]);
  inspect = new Redis(redis.url);
  fake = new FakeOpenAI();
  await fake.start();
});
// Every answer runs to the output cap, so each call bills about its worst case and budgets bind in a few calls.
beforeEach(() => fake.reset({ text: 'word '.repeat(400) }));
afterAll(async () => {
  inspect.disconnect();
  await Promise.all([redis.stop(), dynamo.stop(), fake.stop()]);
});

const billedNanos = (from: number): number =>
  fake.billed.slice(from).reduce((sum, b) => sum + costNanos(PRICE, b.usage), 0);

interface Replica {
  readonly h: GatewayHarness;
  readonly ledger: DynamoSpendLedger;
}

/** `count` gateways of one stage on the shared Redis and one ledger table; the client's budget fits `calls` worst cases. */
async function startStage(count: number, calls: number, extra: Record<string, unknown> = {}) {
  const stage = `durable-${process.pid}-${++stages}`;
  const table = `ledger-${stage}`;
  await dynamo.createLedgerTable(table);
  const replicas: Replica[] = [];
  for (let i = 0; i < count; i++) {
    const ledger = new DynamoSpendLedger({ client: dynamo.client(), table, flushMs: 100 });
    const h = await GatewayHarness.start({
      redisUrl: redis.url,
      fake,
      gateway: { ledger, replicas: count },
      config: {
        stage,
        budget: { monthlyUsd: 1, notifyAtPercent: 80 },
        clients: [
          {
            id: 'app',
            keySha256: sha(KEYS.app),
            rpm: 1000,
            tpm: 1_000_000,
            monthlyBudgetUsd: (calls * WORST_CASE_NANOS) / 1e9,
          },
        ],
        ...extra,
      },
    });
    replicas.push({ h, ledger });
  }
  const reader = new DynamoSpendLedger({ client: dynamo.client(), table, flushMs: 3_600_000 });
  const ledgerSpend = async () => (await reader.read(utcMonth(flowingClock()))).get('c:app') ?? 0;
  const stop = () => Promise.all([...replicas.map((r) => r.h.stop()), reader.close()]);
  return { stage, table, replicas, ledgerSpend, stop };
}

let calls = 0;
/** One call through a replica: undefined when served, else the SDK error. */
const call = (r: Replica) => apiErrorOf(r.h.client().chat.completions.create(chatBody(`call ${++calls}`)));

/** `count` calls at once, spread over the replicas: how many were served and the refusals' types. */
async function burst(replicas: readonly Replica[], count: number) {
  const errors = await Promise.all(
    Array.from({ length: count }, (_, i) => call(replicas[i % replicas.length])),
  );
  const refused = errors.filter((e) => e !== undefined);
  return { served: count - refused.length, refusals: new Set(refused.map((e) => `${e.status} ${e.type}`)) };
}

/** Kills Redis, runs `during`, then restarts it empty and waits until every replica is admitting on Redis again. */
async function withRedisDown<T>(replicas: readonly Replica[], during: () => Promise<T>): Promise<T> {
  await redis.kill();
  try {
    return await during();
  } finally {
    await redis.restart();
    // A replica leaves the fallback on its first admission after the breaker's cooldown.
    for (const r of replicas)
      await eventually(
        async () => (await call(r), (r.h.store as ResilientStore).circuitState === 'closed'),
        10_000,
        50,
      );
  }
}

describe('spend that survives the cache', () => {
  it('keeps a spent budget through flushes and an empty restart, served at most budget + the unwritten increments', async () => {
    const budget = 6 * WORST_CASE_NANOS;
    const { replicas, ledgerSpend, stop } = await startStage(2, 6);
    try {
      for (let i = 0; i < 3; i++) expect(await call(replicas[i % 2])).toBeUndefined();
      // The loss window, measured: what replica 0 had admitted but not yet written when Redis lost it.
      // Replica 1 seeds the empty Redis, after writing its own increments first, so only replica 0's can be missing.
      const unwritten = Math.max(0, replicas[0].ledger.unwrittenNanos);
      await inspect.flushall();

      let served = 3;
      let refusal: Awaited<ReturnType<typeof call>>;
      while (served < 50 && (refusal = await call(replicas[served % 2])) === undefined) served++;
      expect(refusal).toMatchObject({ status: 429, type: 'insufficient_quota' });
      const billed = billedNanos(0);
      process.stdout.write(
        `durable spend: ${served} served across a FLUSHALL, billed ${billed} nano-dollars for a budget of ` +
          `${budget}; unwritten at the flush ${unwritten}\n`,
      );
      expect(billed).toBeLessThanOrEqual(budget + unwritten);
      // The ledger holds exactly what upstream billed, once the replicas have written.
      await eventually(async () => (await ledgerSpend()) === billed);

      for (const lose of ['flush', 'flush again', 'kill and restart empty', 'flush once more']) {
        if (lose.startsWith('kill')) await withRedisDown(replicas, async () => undefined);
        else await inspect.flushall();
        const before = fake.received;
        for (const r of replicas) {
          const err = await call(r);
          expect({ lose, status: err?.status, type: err?.type }).toEqual({
            lose,
            status: 429,
            type: 'insufficient_quota',
          });
        }
        expect(fake.received).toBe(before);
      }
      expect(billedNanos(0)).toBe(billed);
    } finally {
      await stop();
    }
  });

  it('seeds an empty Redis with what reconciliation billed when that is more than the gateway metered', async () => {
    const { table, replicas, ledgerSpend, stop } = await startStage(1, 6);
    try {
      expect(await call(replicas[0])).toBeUndefined();
      await eventually(async () => (await ledgerSpend()) === billedNanos(0));
      // The hourly reconciliation found OpenAI billed the whole stage budget ($1) this month.
      await dynamo.client().send(
        new UpdateItemCommand({
          TableName: table,
          Key: {
            [SpendLedgerKey.month]: { S: utcMonth(flowingClock()) },
            [SpendLedgerKey.scope]: { S: STAGE_SCOPE },
          },
          UpdateExpression: 'SET #billed = :billed',
          ExpressionAttributeNames: { '#billed': SpendLedgerAttribute.billedNanos },
          ExpressionAttributeValues: { ':billed': { N: String(1e9) } },
        }),
      );
      // Redis still has the metered spend: its counters are raised only when it is seeded.
      expect(await call(replicas[0])).toBeUndefined();
      await inspect.flushall();
      const before = fake.received;
      const err = await call(replicas[0]);
      expect(err).toMatchObject({ status: 429, type: 'insufficient_quota' });
      expect(err?.message).toContain('gateway monthly budget');
      expect(fake.received).toBe(before);
    } finally {
      await stop();
    }
  });
});

describe('the shared fallback while Redis is down', () => {
  it('lets three replicas together spend at most what was left plus one request each', async () => {
    const budget = 40 * WORST_CASE_NANOS;
    const { replicas, stop } = await startStage(3, 40);
    try {
      // Each replica sees the spend on Redis before it goes down.
      for (let i = 0; i < 30; i++) expect(await call(replicas[i % 3])).toBeUndefined();
      const left = budget - billedNanos(0);
      const from = fake.billed.length;
      const { served, refusals, spent } = await withRedisDown(replicas, async () => ({
        ...(await burst(replicas, 30)),
        spent: billedNanos(from),
      }));
      process.stdout.write(
        `shared fallback, budget: ${served} of a burst of 30 served by 3 replicas with ${left} nano-dollars ` +
          `left, billed ${spent}\n`,
      );
      expect(spent).toBeLessThanOrEqual(left + 3 * WORST_CASE_NANOS);
      expect(served).toBeLessThan(30);
      expect([...refusals]).toEqual(['429 insufficient_quota']);
    } finally {
      await stop();
    }
  });

  it('lets three replicas together admit at most the stage limit plus one request each', async () => {
    const { replicas, stop } = await startStage(3, 1000, { rateLimits: { rpm: 90, tpm: 10_000_000 } });
    try {
      for (const r of replicas) expect(await call(r)).toBeUndefined();
      const before = fake.received;
      const started = performance.now();
      const { served, refusals, upstream, burstMs } = await withRedisDown(replicas, async () => ({
        ...(await burst(replicas, 189)),
        upstream: fake.received - before,
        burstMs: performance.now() - started,
      }));
      process.stdout.write(
        `shared fallback, stage rpm 90: ${upstream} of a burst of 189 reached upstream in ${Math.round(burstMs)} ms\n`,
      );
      expect(upstream).toBe(served);
      // Each replica's share (30/min) refills while the burst runs: on a slow machine a long burst
      // rightly lets more in. On a quiet one the burst takes well under 2 s, so this is 90 + 3.
      const refilledPerReplica = Math.ceil((burstMs * 30) / 60_000);
      expect(upstream).toBeLessThanOrEqual(90 + 3 + 3 * refilledPerReplica);
      expect(upstream).toBeGreaterThan(0);
      expect([...refusals]).toEqual(['429 requests']);
    } finally {
      await stop();
    }
  });
});
