/**
 * Background responses through the gateway (`limits.backgroundResponses` on): the reservation is held
 * until the final status, and the response is metered exactly once, to what the fake upstream billed,
 * whether the caller retrieves it or never does (the poller), on the memory store and on Redis shared
 * by two replicas (where either may settle it, after the other stopped too). Cancel, streams, and
 * the store or upstream failing while a response is pending.
 */
import type OpenAI from 'openai';
import { costNanos } from '../../../runtime/pricing';
import { MemoryStore } from '../../../service/store';
import { eventually } from '../../support/eventually';
import { FakeOpenAI } from '../../support/fake-openai';
import { GatewayHarness } from '../../support/gateway-harness';
import { RedisServer } from '../../support/redis-server';
import { apiErrorOf } from '../../support/refusal';

const MINI = { inputUsdPer1M: 0.15, outputUsdPer1M: 0.6 };
const ON = { limits: { backgroundResponses: true } };
/** A poller that never fires on its own: the test drives `pollOnce`. */
const MANUAL = { backgroundPollMs: 3_600_000 };

let redis: RedisServer;
let fake: FakeOpenAI;
beforeAll(async () => {
  redis = await RedisServer.start();
  fake = new FakeOpenAI();
  await fake.start();
});
afterAll(async () => {
  await fake.stop();
  await redis?.stop();
});
afterEach(() => fake.reset());

const billedNanos = () => fake.billed.reduce((sum, b) => sum + costNanos(MINI, b.usage), 0);
const spendOf = async (h: GatewayHarness) => (await h.store.monthToDateSpendNanos()) ?? 0;
const statusOf = async (sdk: OpenAI, id: string) => (await sdk.responses.retrieve(id)).status;

describe('background responses, memory store', () => {
  let h: GatewayHarness;
  beforeEach(async () => {
    h = await GatewayHarness.start({ fake, config: ON, store: new MemoryStore(), gateway: MANUAL });
  });
  afterEach(() => h.stop());

  it('holds the worst case while queued, then meters once what upstream billed when a retrieve sees it completed', async () => {
    const before = await spendOf(h);
    const created = await h
      .client()
      .responses.create({ model: 'fast', input: 'Say hello', background: true });
    expect(created.status).toBe('queued');
    // The worst case reserved, and held: nothing settles it before a retrieve or a poll.
    const held = (await spendOf(h)) - before;
    expect(held).toBeGreaterThan(0);
    await eventually(async () => (await statusOf(h.client(), created.id)) === 'completed');
    await eventually(async () => (await spendOf(h)) === before + billedNanos());
    expect(billedNanos()).toBeLessThanOrEqual(held);
    // Seen again by retrieves and polls: never settled a second time.
    await h.client().responses.retrieve(created.id);
    expect(await h.gateway.background.pollOnce()).toBe(0);
    expect(await h.store.pending.list(10)).toEqual([]);
    expect(await spendOf(h)).toBe(before + billedNanos());
    expect(fake.billed).toHaveLength(1);
  });

  it('settles a response nobody retrieves, from the poller', async () => {
    const before = await spendOf(h);
    const created = await h
      .client()
      .responses.create({ model: 'fast', input: 'Say hello', background: true });
    await fake.waitFor(() => fake.billed.length === 1);
    expect(await h.gateway.background.pollOnce()).toBe(1);
    await eventually(async () => (await spendOf(h)) === before + billedNanos());
    // Its owner record now knows its context: a continuation reserves that, not a context window.
    const owner = await h.store.owners.lookup(created.id);
    expect(owner?.contextTokens).toBe(
      fake.billed[0].usage.prompt_tokens + fake.billed[0].usage.completion_tokens!,
    );
  });

  it('grows the conversation a background response extends once it is settled', async () => {
    const conversation = await h.client().conversations.create({
      items: [{ type: 'message', role: 'user', content: 'u'.repeat(600) }],
    });
    const created = await h.client().responses.create({
      model: 'fast',
      input: 'Go on',
      background: true,
      conversation: conversation.id,
    });
    await fake.waitFor(() => fake.billed.length === 1);
    await h.client().responses.retrieve(created.id);
    const billed = fake.billed[0].usage;
    await eventually(
      async () =>
        (await h.store.owners.lookup(conversation.id))?.contextTokens ===
        billed.prompt_tokens + billed.completion_tokens!,
    );
  });

  it('settles a cancelled response with what it reports: upstream billed nothing', async () => {
    fake.reset({ backgroundMs: 60_000 });
    const before = await spendOf(h);
    const created = await h
      .client()
      .responses.create({ model: 'fast', input: 'Say hello', background: true });
    expect(await spendOf(h)).toBeGreaterThan(before);
    const cancelled = await h.client().responses.cancel(created.id);
    expect(cancelled.status).toBe('cancelled');
    await eventually(async () => (await spendOf(h)) === before);
    expect(fake.billed).toHaveLength(0);
    expect(await h.gateway.background.pollOnce()).toBe(0);
  });

  it('streams a background response to its end, metered from its terminal event, and replays it after a sequence number', async () => {
    const before = await spendOf(h);
    const stream = await h
      .client()
      .responses.create({ model: 'fast', input: 'Say hello', background: true, stream: true });
    let id = '';
    const types: string[] = [];
    for await (const event of stream) {
      types.push(event.type);
      if (event.type === 'response.created') id = event.response.id;
    }
    expect(types.at(-1)).toBe('response.completed');
    await eventually(async () => (await spendOf(h)) === before + billedNanos());
    expect(await h.store.pending.list(10)).toEqual([]);
    const replay = await h.client().responses.retrieve(id, { stream: true, starting_after: 2 });
    const sequence: number[] = [];
    for await (const event of replay) sequence.push(event.sequence_number);
    expect(sequence[0]).toBe(3);
    expect(await spendOf(h)).toBe(before + billedNanos());
  });

  it('keeps a response pending while upstream cannot answer the poll, and settles it once upstream can', async () => {
    const before = await spendOf(h);
    const created = await h
      .client()
      .responses.create({ model: 'fast', input: 'Say hello', background: true });
    await fake.waitFor(() => fake.billed.length === 1);
    const held = await spendOf(h);
    fake.enqueue(...Array.from({ length: 3 }, () => ({ path: `/v1/responses/${created.id}`, status: 500 })));
    expect(await h.gateway.background.pollOnce()).toBe(0);
    expect(await spendOf(h)).toBe(held);
    expect(await h.gateway.background.pollOnce()).toBe(1);
    await eventually(async () => (await spendOf(h)) === before + billedNanos());
  });

  it('settles a response upstream no longer has at its worst case', async () => {
    fake.reset({ backgroundMs: 60_000 });
    const before = await spendOf(h);
    const created = await h
      .client()
      .responses.create({ model: 'fast', input: 'Say hello', background: true });
    const held = await spendOf(h);
    fake.reset();
    expect(await h.gateway.background.pollOnce()).toBe(1);
    expect(await h.store.pending.list(10)).toEqual([]);
    expect(await spendOf(h)).toBe(held);
    expect(held).toBeGreaterThan(before);
    void created;
  });

  it('settles at the worst case at once when the store cannot hold the response', async () => {
    const store = h.store as MemoryStore;
    const hold = store.pending.hold.bind(store.pending);
    store.pending.hold = () => Promise.reject(new Error('store down'));
    try {
      const before = await spendOf(h);
      const created = await h
        .client()
        .responses.create({ model: 'fast', input: 'Say hello', background: true });
      expect(created.status).toBe('queued');
      const charged = await spendOf(h);
      expect(charged).toBeGreaterThan(before);
      await fake.waitFor(() => fake.billed.length === 1);
      expect(billedNanos()).toBeLessThanOrEqual(charged - before);
      expect(await h.gateway.background.pollOnce()).toBe(0);
      await h.client().responses.retrieve(created.id);
      expect(await spendOf(h)).toBe(charged);
    } finally {
      store.pending.hold = hold;
    }
  });
});

describe('background responses with the stage switch off', () => {
  it('refuses background: true with 400 naming background, and nothing reaches upstream', async () => {
    const h = await GatewayHarness.start({ fake });
    try {
      expect(
        await apiErrorOf(h.client().responses.create({ model: 'fast', input: 'x', background: true })),
      ).toMatchObject({ status: 400, param: 'background', code: 'unsupported_parameter' });
      expect(fake.received).toBe(0);
    } finally {
      await h.stop();
    }
  });

  it('refuses a background response that is not stored, as upstream would', async () => {
    const h = await GatewayHarness.start({ fake, config: ON });
    try {
      expect(
        await apiErrorOf(
          h.client().responses.create({ model: 'fast', input: 'x', background: true, store: false }),
        ),
      ).toMatchObject({ status: 400, param: 'store' });
      expect(fake.received).toBe(0);
    } finally {
      await h.stop();
    }
  });
});

describe('background responses, Redis shared by two replicas', () => {
  const start = (gateway: Record<string, unknown> = {}) =>
    GatewayHarness.start({ fake, config: ON, redisUrl: redis.url, gateway: { ...MANUAL, ...gateway } });

  it('is settled exactly once when both replicas poll and retrieve it at the same time', async () => {
    const a = await start();
    const b = await start();
    try {
      const before = await spendOf(a);
      const created = await a
        .client()
        .responses.create({ model: 'fast', input: 'Say hello', background: true });
      await fake.waitFor(() => fake.billed.length === 1);
      const settled = await Promise.all([
        a.gateway.background.pollOnce(),
        b.gateway.background.pollOnce(),
        a.gateway.background.pollOnce(),
        b.gateway.background.pollOnce(),
      ]);
      await Promise.all([
        a.client().responses.retrieve(created.id),
        b.client().responses.retrieve(created.id),
      ]);
      expect(settled.reduce((x, y) => x + y, 0)).toBeLessThanOrEqual(1);
      await eventually(async () => (await spendOf(b)) === before + billedNanos());
      expect(await a.store.pending.list(10)).toEqual([]);
      expect(await spendOf(a)).toBe(before + billedNanos());
    } finally {
      await a.stop();
      await b.stop();
    }
  });

  it('is settled by the other replica, from its own poller, after the one that held it stopped', async () => {
    fake.reset({ backgroundMs: 200 });
    const a = await start();
    let b: GatewayHarness | undefined;
    try {
      const before = await spendOf(a);
      await a.client().responses.create({ model: 'fast', input: 'Say hello', background: true });
      await a.stop();
      b = await start({ backgroundPollMs: 20 });
      await fake.waitFor(() => fake.billed.length === 1);
      await eventually(async () => (await spendOf(b!)) === before + billedNanos());
      expect(await b.store.pending.list(10)).toEqual([]);
    } finally {
      await b?.stop();
    }
  });
});
