/**
 * The Conversations API through the gateway with the official openai SDK: every call of its
 * `conversations` resource for the creator, the same 404 for anyone else (who never reaches upstream),
 * and responses in a conversation: each reserves the context the conversation holds (not a whole
 * context window) and is metered what the fake upstream billed.
 */
import { costNanos } from '../../../runtime/pricing';
import { eventually } from '../../support/eventually';
import { GatewayHarness, KEYS, testConfigDocument } from '../../support/gateway-harness';
import { apiErrorOf } from '../../support/refusal';
import { FakeOpenAI } from '../../support/fake-openai';
import { RedisServer } from '../../support/redis-server';

const MINI = { inputUsdPer1M: 0.15, outputUsdPer1M: 0.6 };
/** Far below a context window: a turn that reserved a whole window would be refused 429. */
const TPM = 200_000;

describe('the Conversations API through the gateway', () => {
  let h: GatewayHarness;
  beforeAll(async () => {
    const clients = (testConfigDocument().clients as Array<Record<string, unknown>>).map((c) =>
      c.id === 'app' ? { ...c, tpm: TPM } : c.id === 'limited' ? { ...c, apiFamilies: ['responses'] } : c,
    );
    h = await GatewayHarness.start({ config: { clients } });
  });
  afterAll(() => h.stop());
  afterEach(() => h.fake.reset());

  const billedNanos = () => h.fake.billed.reduce((sum, b) => sum + costNanos(MINI, b.usage), 0);
  const contextOf = async (id: string) => (await h.store.owners.lookup(id))?.contextTokens;

  it('serves create, retrieve, update, delete and items create, list, retrieve, delete to the creator', async () => {
    const sdk = h.client();
    const conversation = await sdk.conversations.create({
      items: [{ type: 'message', role: 'user', content: 'Remember 42' }],
      metadata: { topic: 'numbers' },
    });
    expect(conversation.id).toMatch(/^conv_/);
    expect((await sdk.conversations.retrieve(conversation.id)).metadata).toEqual({ topic: 'numbers' });
    const updated = await sdk.conversations.update(conversation.id, { metadata: { topic: 'digits' } });
    expect(updated.metadata).toEqual({ topic: 'digits' });
    const added = await sdk.conversations.items.create(conversation.id, {
      items: [{ type: 'message', role: 'user', content: 'And 7' }],
    });
    expect(added.data).toHaveLength(1);
    const itemId = added.data[0].id!;
    const listed = await sdk.conversations.items.list(conversation.id, { order: 'asc', limit: 10 });
    expect(listed.data.map((i) => i.id)).toContain(itemId);
    expect(listed.data).toHaveLength(2);
    expect((await sdk.conversations.items.retrieve(itemId, { conversation_id: conversation.id })).id).toBe(
      itemId,
    );
    await sdk.conversations.items.delete(itemId, { conversation_id: conversation.id });
    expect((await sdk.conversations.items.list(conversation.id)).data).toHaveLength(1);
    expect((await sdk.conversations.delete(conversation.id)).deleted).toBe(true);
    expect(await apiErrorOf(sdk.conversations.retrieve(conversation.id))).toMatchObject({
      status: 404,
      code: 'not_found',
    });
    expect(h.fake.billed).toHaveLength(0);
  });

  it("answers every call on someone else's conversation with the 404 of an absent one, without asking upstream", async () => {
    const conversation = await h.client().conversations.create({
      items: [{ type: 'message', role: 'user', content: 'Mine' }],
    });
    const itemId = (await h.client().conversations.items.list(conversation.id)).data[0].id!;
    const received = h.fake.received;
    const theirs = h.client(KEYS.other);
    const item = { conversation_id: conversation.id };
    for (const attempt of [
      theirs.conversations.retrieve(conversation.id),
      theirs.conversations.update(conversation.id, { metadata: { x: 'y' } }),
      theirs.conversations.delete(conversation.id),
      theirs.conversations.items.create(conversation.id, { items: [{ role: 'user', content: 'x' }] }),
      theirs.conversations.items.list(conversation.id),
      theirs.conversations.items.retrieve(itemId, item),
      theirs.conversations.items.delete(itemId, item),
      theirs.responses.create({ model: 'fast', input: 'x', conversation: conversation.id }),
      theirs.conversations.retrieve('conv_never_issued'),
    ]) {
      expect(await apiErrorOf(attempt)).toMatchObject({ status: 404, code: 'not_found' });
    }
    expect(h.fake.received).toBe(received);
    expect((await h.client().conversations.retrieve(conversation.id)).id).toBe(conversation.id);
  });

  it('validates bodies with OpenAI-style 400s before anything reaches upstream', async () => {
    const sdk = h.client();
    const tooMany = Array.from({ length: 21 }, () => ({ role: 'user' as const, content: 'x' }));
    const conversation = await sdk.conversations.create();
    const received = h.fake.received;
    for (const [attempt, param] of [
      [sdk.conversations.create({ items: tooMany }), 'items'],
      [sdk.conversations.create({ metadata: { n: 1 as unknown as string } }), 'metadata.n'],
      [sdk.conversations.items.create(conversation.id, { items: [] }), 'items'],
      [sdk.conversations.update(conversation.id, {} as never), 'metadata'],
    ] as const) {
      expect(await apiErrorOf(attempt)).toMatchObject({ status: 400, param });
    }
    expect(h.fake.received).toBe(received);
  });

  it('carries the conversation into each response: the reservation is what it holds, the spend what upstream billed', async () => {
    const sdk = h.client();
    const before = (await h.store.monthToDateSpendNanos()) ?? 0;
    const conversation = await sdk.conversations.create({
      items: [{ type: 'message', role: 'user', content: 'z'.repeat(3000) }],
    });
    const created = (await contextOf(conversation.id))!;
    // The items' estimate: 3000 bytes at 3 a token, plus framing.
    expect(created).toBeGreaterThanOrEqual(1000);
    let context = created;
    for (const input of ['What did I say?', 'And then?', 'Once more.']) {
      const { data, response } = await sdk.responses
        .create({ model: 'fast', input, conversation: conversation.id })
        .withResponse();
      const reserved = TPM - Number(response.headers.get('x-ratelimit-remaining-tokens'));
      expect(reserved).toBeGreaterThanOrEqual(context);
      const billed = h.fake.billed.at(-1)!.usage;
      expect(data.usage!.input_tokens).toBe(billed.prompt_tokens);
      // Upstream billed the conversation again, and at most what the gateway reserved for it.
      expect(billed.prompt_tokens).toBeGreaterThan(created / 2);
      const next = billed.prompt_tokens + (billed.completion_tokens ?? 0);
      await eventually(async () => (await contextOf(conversation.id)) === next);
      context = next;
      await eventually(async () => (await h.store.monthToDateSpendNanos()) === before + billedNanos());
    }
    expect(h.fake.billed).toHaveLength(3);
  });

  it('grows the recorded context by the estimate of the items added', async () => {
    const sdk = h.client();
    const conversation = await sdk.conversations.create();
    expect(await contextOf(conversation.id)).toBe(0);
    await sdk.conversations.items.create(conversation.id, {
      items: [{ type: 'message', role: 'user', content: 'q'.repeat(300) }],
    });
    expect(await contextOf(conversation.id)).toBeGreaterThanOrEqual(100);
  });

  it('answers 404 unknown_url to a client not allowed the conversations family', async () => {
    const err = await apiErrorOf(h.client(KEYS.limited).conversations.create());
    expect(err).toMatchObject({ status: 404, code: 'unknown_url' });
    expect(h.fake.received).toBe(0);
  });
});

describe('conversations on Redis shared by two replicas', () => {
  let redis: RedisServer;
  let fake: FakeOpenAI;
  let a: GatewayHarness;
  let b: GatewayHarness;
  beforeAll(async () => {
    redis = await RedisServer.start();
    fake = new FakeOpenAI();
    await fake.start();
    a = await GatewayHarness.start({ fake, redisUrl: redis.url });
    b = await GatewayHarness.start({ fake, redisUrl: redis.url });
  });
  afterAll(async () => {
    await a.stop();
    await b.stop();
    await fake.stop();
    await redis.stop();
  });

  it('shares ownership and context: turns alternate replicas, each reserving what the conversation holds', async () => {
    const conversation = await a.client().conversations.create({
      items: [{ type: 'message', role: 'user', content: 'v'.repeat(1200) }],
    });
    expect(await apiErrorOf(b.client(KEYS.other).conversations.retrieve(conversation.id))).toMatchObject({
      status: 404,
    });
    for (const [i, h] of [a, b, a, b].entries()) {
      const context = (await h.store.owners.lookup(conversation.id))!.contextTokens!;
      const { response } = await h
        .client()
        .responses.create({ model: 'fast', input: `Turn ${i}`, conversation: conversation.id })
        .withResponse();
      const reserved = 1_000_000 - Number(response.headers.get('x-ratelimit-remaining-tokens'));
      expect(reserved).toBeGreaterThanOrEqual(context);
      const billed = fake.billed.at(-1)!.usage;
      expect(billed.prompt_tokens).toBeLessThanOrEqual(reserved);
      const next = billed.prompt_tokens + (billed.completion_tokens ?? 0);
      await eventually(async () => (await b.store.owners.lookup(conversation.id))?.contextTokens === next);
    }
  });

  it('never records less than the conversation holds after concurrent turns on both replicas', async () => {
    const conversation = await a.client().conversations.create();
    await Promise.all(
      [a, b, a, b].map((h, i) =>
        h.client().responses.create({
          model: 'fast',
          input: `Concurrent ${i} ${'c'.repeat(300)}`,
          conversation: conversation.id,
        }),
      ),
    );
    await eventually(async () => (await a.store.owners.lookup(conversation.id))?.revision === 4);
    const recorded = (await a.store.owners.lookup(conversation.id))!.contextTokens!;
    fake.billed.length = 0;
    await b.client().responses.create({ model: 'fast', input: 'After', conversation: conversation.id });
    // The next turn is billed the conversation again: at most what was recorded, plus its own input.
    const own = (await b.client().responses.inputTokens.count({ model: 'fast', input: 'After' }))
      .input_tokens;
    expect(fake.billed[0].usage.prompt_tokens - own).toBeLessThanOrEqual(recorded);
  });
});
