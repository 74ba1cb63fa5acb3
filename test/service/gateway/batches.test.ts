/**
 * The Batch API through the gateway with the official openai SDK: a batch's input lines prepared by the
 * live path's own spec (a line it would refuse is a 400 with its line number), its worst case reserved
 * at the batch price (a batch that does not fit is refused and nothing is created upstream), the
 * reservation held until the batch ends and then settled exactly once, by any replica, to the usage the
 * batch reports, at the batch price; its output file the caller's only. Spend is asserted from what the
 * fake upstream billed.
 */
import { createHash } from 'node:crypto';
import OpenAI, { toFile } from 'openai';
import { costNanos, type TokenUsage } from '../../../runtime/pricing';
import { eventually } from '../../support/eventually';
import { FakeOpenAI } from '../../support/fake-openai';
import { GatewayHarness, KEYS, testConfigDocument } from '../../support/gateway-harness';
import { RedisServer } from '../../support/redis-server';
import { apiErrorOf } from '../../support/refusal';

/** gpt-4o-mini at half price, as OpenAI bills a batch. */
const MINI_BATCH = { inputUsdPer1M: 0.15 / 2, outputUsdPer1M: 0.6 / 2 };

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

/** The test clients, `other` with a budget far below one batch line's worst case. */
function clients(): unknown[] {
  const base = testConfigDocument().clients as Array<Record<string, unknown>>;
  return base.map((c) => (c.id === 'other' ? { ...c, monthlyBudgetUsd: 0.0001 } : c));
}

const CONFIG = { clients: clients(), limits: { strictParameters: true } };

const line = (customId: string, body: Record<string, unknown> = {}) =>
  JSON.stringify({
    custom_id: customId,
    method: 'POST',
    url: '/v1/chat/completions',
    body: { model: 'fast', messages: [{ role: 'user', content: `Say ${customId}` }], ...body },
  });

async function inputFile(client: OpenAI, lines: readonly string[]): Promise<string> {
  const file = await client.files.create({
    file: await toFile(Buffer.from(lines.join('\n') + '\n'), 'input.jsonl'),
    purpose: 'batch',
  });
  return file.id;
}

/** What the fake billed for batch lines, summed, at the batch price. */
function billedBatchNanos(fake: FakeOpenAI): number {
  const calls = fake.billed.filter((b) => b.endpoint === 'batch');
  const usage: TokenUsage = {
    prompt_tokens: calls.reduce((n, b) => n + b.usage.prompt_tokens, 0),
    completion_tokens: calls.reduce((n, b) => n + b.usage.completion_tokens, 0),
  };
  return costNanos(MINI_BATCH, usage);
}

const spend = async (h: GatewayHarness) => (await h.store.monthToDateSpendNanos()) ?? 0;

describe('the Batch API through the gateway', () => {
  let h: GatewayHarness;
  beforeAll(async () => {
    h = await GatewayHarness.start({ config: CONFIG });
  });
  afterAll(() => h.stop());
  afterEach(() => h.fake.reset());

  const create = async (lines: readonly string[], client = h.client()) =>
    client.batches.create({
      input_file_id: await inputFile(client, lines),
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
    });

  it('holds the worst case at the batch price until the batch completes, then settles to its usage', async () => {
    const before = await spend(h);
    const batch = await create([line('a'), line('b'), line('c', { max_tokens: 40 })]);
    expect(batch.status).toBe('validating');
    // Upstream runs the lines as the gateway prepared them: model resolved, caps applied, the caller named.
    const sent = h.fake.files.files.get(batch.input_file_id)!.content.toString().trim().split('\n');
    expect(sent.map((l) => JSON.parse(l).body)).toEqual([
      expect.objectContaining({ model: 'gpt-4o-mini', max_completion_tokens: 100, safety_identifier: 'app' }),
      expect.objectContaining({ model: 'gpt-4o-mini', max_completion_tokens: 100 }),
      expect.objectContaining({ model: 'gpt-4o-mini', max_tokens: 40 }),
    ]);
    const held = (await spend(h)) - before;
    expect(held).toBeGreaterThanOrEqual(costNanos(MINI_BATCH, { prompt_tokens: 3, completion_tokens: 240 }));

    await eventually(async () => (await h.client().batches.retrieve(batch.id)).status === 'completed');
    expect(h.fake.billed.filter((b) => b.endpoint === 'batch')).toHaveLength(3);
    expect(billedBatchNanos(h.fake)).toBeGreaterThan(0);
    expect(billedBatchNanos(h.fake)).toBeLessThanOrEqual(held);
    await eventually(async () => (await spend(h)) === before + billedBatchNanos(h.fake));
    // Seen again: nothing is settled twice.
    await h.client().batches.retrieve(batch.id);
    await h.gateway.batches.pollNow();
    expect(await spend(h)).toBe(before + billedBatchNanos(h.fake));
  });

  it("makes the output file the caller's only, and the batch 404 to anyone else", async () => {
    const batch = await create([line('a')]);
    let done = batch;
    await eventually(async () => (done = await h.client().batches.retrieve(batch.id)).status === 'completed');
    const output = await h.client().files.content(done.output_file_id!);
    expect(JSON.parse((await output.text()).trim()).custom_id).toBe('a');
    const other = h.client(KEYS.other);
    for (const call of [
      other.files.content(done.output_file_id!),
      other.batches.retrieve(batch.id),
      other.batches.cancel(batch.id),
    ]) {
      expect(await apiErrorOf(call)).toMatchObject({ status: 404, code: 'not_found' });
    }
  });

  it("lists only the caller's batches", async () => {
    const mine = [await create([line('a')]), await create([line('b')])];
    const otherH = h.client(KEYS.other);
    // Its budget takes no batch of this size.
    expect(await apiErrorOf(create([line('x', { max_tokens: 1000 })], otherH))).toMatchObject({
      status: 429,
    });
    const listed: string[] = [];
    for await (const b of h.client().batches.list({ limit: 1 })) listed.push(b.id);
    expect(listed.sort()).toEqual(mine.map((b) => b.id).sort());
    expect((await otherH.batches.list()).data).toEqual([]);
  });

  it('refuses a batch whose worst case does not fit the budget, and creates nothing upstream', async () => {
    const client = h.client(KEYS.other);
    const fileId = await inputFile(client, [line('a', { max_tokens: 1000 })]);
    const before = await spend(h);
    const err = await apiErrorOf(
      client.batches.create({
        input_file_id: fileId,
        endpoint: '/v1/chat/completions',
        completion_window: '24h',
      }),
    );
    expect(err).toMatchObject({ status: 429, code: 'insufficient_quota' });
    expect(h.fake.requestsTo('/v1/batches')).toHaveLength(0);
    expect(h.fake.files.files.size).toBe(1); // the caller's own upload, no validated copy
    expect(await spend(h)).toBe(before);
  });

  it('refuses with 400 naming the line a line the live path would refuse, and creates nothing', async () => {
    for (const [lines, param, code] of [
      [[line('a'), line('b', { frequency_penaltyy: 1 })], 'frequency_penaltyy', 'unknown_parameter'],
      [[line('a'), line('b', { max_tokens: 5000 })], 'max_tokens', null],
    ] as const) {
      const err = await apiErrorOf(create(lines));
      expect(err).toMatchObject({ status: 400, param, code });
      expect(err?.message).toMatch(/Line 2 of the input file: /);
    }
    expect(h.fake.requestsTo('/v1/batches')).toHaveLength(0);
  });

  it("refuses someone else's input file as not found, and an endpoint outside the client's families", async () => {
    const theirs = await inputFile(h.client(KEYS.other), [line('a')]);
    const err = await apiErrorOf(
      h.client().batches.create({
        input_file_id: theirs,
        endpoint: '/v1/chat/completions',
        completion_window: '24h',
      }),
    );
    expect(err).toMatchObject({ status: 404, code: 'not_found', param: 'input_file_id' });
    const mine = await inputFile(h.client(), [line('a')]);
    const bad = await apiErrorOf(
      h.client().batches.create({ input_file_id: mine, endpoint: '/v1/videos', completion_window: '24h' }),
    );
    expect(bad).toMatchObject({ status: 400, param: 'endpoint' });
    expect(h.fake.requestsTo('/v1/batches')).toHaveLength(0);
  });

  it('cancels a batch, after which its reservation is given back: nothing ran, nothing is charged', async () => {
    h.fake.reset({ batchMs: 60_000 });
    const before = await spend(h);
    const batch = await create([line('a')]);
    expect(await spend(h)).toBeGreaterThan(before);
    expect((await h.client().batches.cancel(batch.id)).status).toBe('cancelling');
    await eventually(async () => (await h.client().batches.retrieve(batch.id)).status === 'cancelled');
    expect(h.fake.billed).toHaveLength(0);
    await eventually(async () => (await spend(h)) === before);
  });

  it('gives the reservation back when upstream fails to create the batch, and answers 502', async () => {
    const fileId = await inputFile(h.client(), [line('a')]);
    const before = await spend(h);
    h.fake.enqueue(...Array.from({ length: 3 }, () => ({ path: '/v1/batches', status: 500 })));
    const err = await apiErrorOf(
      h.client().batches.create({
        input_file_id: fileId,
        endpoint: '/v1/chat/completions',
        completion_window: '24h',
      }),
    );
    expect(err).toMatchObject({ status: 502 });
    expect(h.fake.batches.batches.size).toBe(0);
    await eventually(async () => (await spend(h)) === before);
  });

  it('answers 404 to a client without the batches family', async () => {
    expect(await apiErrorOf(h.client(KEYS.limited).batches.list())).toMatchObject({ status: 404 });
  });
});

describe('batches while Redis cannot answer', () => {
  let h: GatewayHarness;
  beforeAll(async () => {
    const { freePort } = await import('../../support/redis-server');
    // Nothing listens there: every admission comes from the shared fallback.
    h = await GatewayHarness.start({
      redisUrl: `redis://127.0.0.1:${await freePort()}`,
      gateway: { redisConnectWaitMs: 0 },
    });
  });
  afterAll(() => h.stop());

  it('refuses to create a batch with 503: a reservation it must hold cannot live in one replica', async () => {
    const res = await h.post(
      '/batches',
      JSON.stringify({ input_file_id: 'file-x', endpoint: '/v1/chat/completions', completion_window: '24h' }),
    );
    // Ownership of the input file cannot be read either: 503, never a guess.
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBeTruthy();
    expect(h.fake.requestsTo('/v1/batches')).toHaveLength(0);
  });

  it('lists nothing it cannot vouch for: 503 while upstream has batches whose owner it cannot read', async () => {
    const direct = new OpenAI({ baseURL: h.fake.url, apiKey: 'sk-direct', maxRetries: 0 });
    const file = await direct.files.create({
      file: await toFile(Buffer.from(line('a')), 'a.jsonl'),
      purpose: 'batch',
    });
    await direct.batches.create({
      input_file_id: file.id,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
    });
    expect(await apiErrorOf(h.client().batches.list())).toMatchObject({ status: 503 });
  });
});

describe('batches settled exactly once across two replicas on one Redis', () => {
  let redis: RedisServer;
  let fake: FakeOpenAI;
  let a: GatewayHarness;
  let b: GatewayHarness;
  const config = {
    clients: [
      {
        id: 'app',
        keySha256: sha(KEYS.app),
        rpm: 1000,
        tpm: 1_000_000,
        monthlyBudgetUsd: 10,
        apiFamilies: ['chat', 'files', 'batches'],
      },
    ],
  };
  beforeAll(async () => {
    redis = await RedisServer.start();
    fake = new FakeOpenAI();
    await fake.start();
    a = await GatewayHarness.start({ redisUrl: redis.url, fake, config });
    b = await GatewayHarness.start({ redisUrl: redis.url, fake, config });
  });
  afterAll(async () => {
    await a.stop();
    await b.stop();
    await fake.stop();
    await redis.stop();
  });

  it('is settled by whichever replica sees it end (a poll, a retrieve), once, to the batch price of its usage', async () => {
    const client = a.client();
    const before = await spend(a);
    const fileId = await inputFile(client, [line('a'), line('b'), line('c')]);
    const batch = await client.batches.create({
      input_file_id: fileId,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
    });
    expect(await spend(b)).toBeGreaterThan(before); // the reservation is shared
    await eventually(() => fake.batches.batches.get(batch.id)?.status === 'completed');
    // Both replicas poll and one retrieves at once: one claim wins.
    const [settledA, settledB] = await Promise.all([
      a.gateway.batches.pollNow(),
      b.gateway.batches.pollNow(),
      b.client().batches.retrieve(batch.id),
    ]);
    expect(settledA + settledB).toBeLessThanOrEqual(1);
    await a.gateway.batches.pollNow();
    expect(await spend(a)).toBe(before + billedBatchNanos(fake));
    expect(await spend(b)).toBe(before + billedBatchNanos(fake));
    // The output file is the caller's on the other replica too.
    const done = await b.client().batches.retrieve(batch.id);
    expect((await b.client().files.retrieve(done.output_file_id!)).purpose).toBe('batch_output');
  });

  it('is settled by another replica when the one that created it has gone', async () => {
    const gone = await GatewayHarness.start({ redisUrl: redis.url, fake, config });
    fake.reset();
    const before = await spend(a);
    const fileId = await inputFile(gone.client(), [line('a')]);
    const batch = await gone.client().batches.create({
      input_file_id: fileId,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
    });
    await gone.stop();
    await eventually(() => fake.batches.batches.get(batch.id)?.status === 'completed');
    expect(await b.gateway.batches.pollNow()).toBe(1);
    expect(await spend(a)).toBe(before + billedBatchNanos(fake));
    expect((await a.client().batches.retrieve(batch.id)).status).toBe('completed');
  });
});
