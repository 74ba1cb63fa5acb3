/**
 * Spend that upstream bills must be spend the budgets see, on both stores. The fake upstream records
 * what OpenAI would bill (`fake.billed`: every chat completion it started, read or not); every
 * assertion compares the gateway's month-to-date spend with that, never with the gateway's own figures.
 */
import OpenAI from 'openai';
import { PRIORITY_PRICE_FACTOR } from '../../../runtime/gateway-config';
import { costNanos } from '../../../runtime/pricing';
import type { GatewayStore } from '../../../service/store/types';
import { FakeOpenAI } from '../../support/fake-openai';
import { chatBody, GatewayHarness, HEALTHY_REDIS_STORE, KEYS } from '../../support/gateway-harness';
import { eventually } from '../../support/eventually';
import { RedisServer } from '../../support/redis-server';

const PRICE = { inputUsdPer1M: 0.15, outputUsdPer1M: 0.6 };
/** The worst case of `chatBody()` with the harness's default cap: 10 prompt tokens + 100 output tokens. */
const WORST_CASE_NANOS = 10 * 150 + 100 * 600;

const billedNanos = (fake: FakeOpenAI): number =>
  fake.billed.reduce((sum, b) => sum + costNanos(PRICE, b.usage), 0);

const spent = async (store: GatewayStore): Promise<number> => (await store.monthToDateSpendNanos())!;

/** A budget that fits `calls` worst cases of `chatBody()`. */
const budgetFor = (calls: number): number => (calls * WORST_CASE_NANOS) / 1e9;

let redis: RedisServer;
let stages = 0;
beforeAll(async () => {
  redis = await RedisServer.start();
});
afterAll(() => redis?.stop());

describe.each([
  ['the memory store', () => ({})],
  ['the Redis store', () => ({ redisUrl: redis.url })],
])('spend control on %s', (_name, storeOptions) => {
  let h: GatewayHarness | undefined;
  afterEach(async () => {
    await h?.stop();
    h = undefined;
  });

  /** A gateway whose client and stage budgets are both `budgetUsd`. */
  async function start(config: Record<string, unknown> = {}, budgetUsd = (100 * WORST_CASE_NANOS) / 1e9) {
    const budget = { monthlyUsd: budgetUsd, notifyAtPercent: 80 };
    const clientBudgetUsd = budgetUsd;
    h = await GatewayHarness.start({
      ...storeOptions(),
      config: {
        // One stage per test: tests share the redis-server, and spend counters are per stage.
        stage: `spend-${process.pid}-${++stages}`,
        budget,
        store: HEALTHY_REDIS_STORE,
        clients: [
          {
            id: 'app',
            keySha256: sha(KEYS.app),
            rpm: 1000,
            tpm: 1_000_000,
            monthlyBudgetUsd: clientBudgetUsd,
          },
        ],
        ...config,
      },
    });
    return h;
  }

  it('charges a non-streamed call the caller abandoned what upstream may bill, so abandoning cannot overspend', async () => {
    const h = await start({}, budgetFor(2));
    const outcomes: unknown[] = [];
    for (let i = 0; i < 5; i++) {
      h.fake.enqueue({ delayMs: 300 });
      const before = h.fake.received;
      const controller = new AbortController();
      const call = h
        .client()
        .chat.completions.create(chatBody(), { signal: controller.signal })
        .catch((err: unknown) => err);
      // The caller leaves once its call is upstream, or the gateway refused it first.
      const reached = await Promise.race([
        h.fake
          .waitFor(() => h.fake.received > before)
          .then(
            () => true,
            () => false,
          ),
        call.then(() => false),
      ]);
      if (reached) controller.abort();
      outcomes.push(await call);
    }
    expect(outcomes.slice(0, 2).every((o) => o instanceof OpenAI.APIUserAbortError)).toBe(true);
    expect(outcomes.slice(2)).toEqual([
      expect.objectContaining({ status: 429, code: 'insufficient_quota' }),
      expect.objectContaining({ status: 429, code: 'insufficient_quota' }),
      expect.objectContaining({ status: 429, code: 'insufficient_quota' }),
    ]);
    // The calls that reached upstream are billed once their generation ends.
    await h.fake.waitFor(() => h.fake.billed.length === h.fake.received);
    await eventually(async () => (await spent(h.store)) >= billedNanos(h.fake));
    expect(h.fake.received).toBe(2);
    expect(billedNanos(h.fake)).toBeLessThanOrEqual(2 * WORST_CASE_NANOS);
    expect(await spent(h.store)).toBeGreaterThanOrEqual(billedNanos(h.fake));
    const refused = await h
      .client()
      .chat.completions.create(chatBody())
      .catch((e: unknown) => e);
    expect(refused).toMatchObject({ status: 429, code: 'insufficient_quota' });
  });

  it.each([
    [
      'a 4 kB tool definition',
      { tools: [{ type: 'function', function: { name: 'f', description: 'd'.repeat(4000) } }] },
    ],
    [
      'a 4 kB response schema',
      {
        response_format: {
          type: 'json_schema',
          json_schema: { name: 's', schema: { description: 'd'.repeat(4000) } },
        },
      },
    ],
  ])('reserves %s: concurrent calls cannot bill past the budget', async (_what, extra) => {
    const body = { ...chatBody(), ...extra };
    // The worst case the gateway must reserve, from its documented estimate: everything the model
    // reads at 3 bytes a token, 4 tokens of framing a message, 3 of priming, and the 100-token default cap.
    const promptBytes =
      Buffer.byteLength('Say hello') + 12 + Buffer.byteLength(JSON.stringify(Object.values(extra)[0]));
    const worstNanos = (Math.ceil(promptBytes / 3) + 3) * 150 + 100 * 600;
    const budgetUsd = (3 * worstNanos) / 1e9;
    const h = await start({ limits: { maxBodyBytes: 65_536 } }, budgetUsd);
    h.fake.reset({ delayMs: 100 });
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, () =>
        h.post('/chat/completions', JSON.stringify(body)).then((r) => ({ status: r.status })),
      ),
    );
    await eventually(async () => (await spent(h.store)) >= billedNanos(h.fake));
    expect(billedNanos(h.fake)).toBeLessThanOrEqual(budgetUsd * 1e9);
    expect(await spent(h.store)).toBeGreaterThanOrEqual(billedNanos(h.fake));
    // Three worst cases fit the budget at once; a call that settles below its worst case may let one
    // more in later. What holds whatever the timing is above: upstream never bills past the budget.
    expect(outcomes.filter((o) => o.status === 200).length).toBeGreaterThanOrEqual(3);
    expect(outcomes.filter((o) => o.status === 429).length).toBeGreaterThanOrEqual(10);
    expect(outcomes.every((o) => o.status === 200 || o.status === 429)).toBe(true);
  });

  it('reserves images at the most the model bills one, so image calls cannot bill past the budget', async () => {
    const content = [
      { type: 'text', text: 'What is in these?' },
      ...Array.from({ length: 4 }, () => ({ type: 'image_url', image_url: { url: 'https://x.test/i.png' } })),
    ];
    const body = { model: 'gpt-4o-mini', messages: [{ role: 'user', content }] };
    const worstNanos = (Math.ceil((17 + 12) / 3) + 4 * 48_169 + 3) * 150 + 100 * 600;
    const budgetUsd = (2 * worstNanos) / 1e9;
    const h = await start({}, budgetUsd);
    h.fake.reset({ delayMs: 100 });
    const outcomes = await Promise.all(
      Array.from({ length: 10 }, () =>
        h.post('/chat/completions', JSON.stringify(body)).then((r) => ({ status: r.status })),
      ),
    );
    await eventually(async () => (await spent(h.store)) >= billedNanos(h.fake));
    expect(h.fake.billed.length).toBeGreaterThanOrEqual(2);
    expect(billedNanos(h.fake)).toBeLessThanOrEqual(budgetUsd * 1e9);
    expect(await spent(h.store)).toBeGreaterThanOrEqual(billedNanos(h.fake));
    expect(outcomes.filter((o) => o.status === 429).length).toBeGreaterThanOrEqual(5);
    expect(outcomes.every((o) => o.status === 200 || o.status === 429)).toBe(true);
  });

  it('reserves a file at the most one file bills, so a PDF of many small pages cannot bill past the budget', async () => {
    // Two tiny pages: a few hundred bytes that upstream bills as two page images and their text.
    const pdf = Buffer.from(
      '%PDF-1.4 1 0 obj <</Type /Pages>> 2 0 obj <</Type /Page>> 3 0 obj <</Type /Page>>',
    );
    const file = {
      type: 'file',
      file: { filename: 'a.pdf', file_data: `data:application/pdf;base64,${pdf.toString('base64')}` },
    };
    const body = {
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Sum up' }, file] }],
    };
    const fileTokens = 100_000;
    const worstNanos = (Math.ceil((6 + 12) / 3) + fileTokens + 3) * 150 + 100 * 600;
    const budgetUsd = (3 * worstNanos) / 1e9;
    const h = await start({ models: { 'gpt-4o-mini': { fileTokens } } }, budgetUsd);
    h.fake.reset({ delayMs: 100 });
    const outcomes = await Promise.all(
      Array.from({ length: 10 }, () =>
        h.post('/chat/completions', JSON.stringify(body)).then((r) => ({ status: r.status })),
      ),
    );
    await eventually(async () => (await spent(h.store)) >= billedNanos(h.fake));
    // Each call billed about 97k tokens, far more than its bytes: three fit the budget, the rest wait.
    expect(h.fake.billed[0].usage.prompt_tokens).toBeGreaterThan(90_000);
    expect(h.fake.billed.length).toBe(3);
    expect(billedNanos(h.fake)).toBeLessThanOrEqual(budgetUsd * 1e9);
    expect(outcomes.filter((o) => o.status === 429)).toHaveLength(7);
  });

  it('meters the priority tier at its premium, for a client allowed to use it', async () => {
    const h = await GatewayHarness.start({
      ...storeOptions(),
      config: {
        stage: `spend-${process.pid}-${++stages}`,
        clients: [
          {
            id: 'app',
            keySha256: sha(KEYS.app),
            rpm: 1000,
            tpm: 1_000_000,
            monthlyBudgetUsd: 1,
            serviceTiers: ['priority'],
          },
        ],
      },
    });
    try {
      await h.client().chat.completions.create({ ...chatBody(), service_tier: 'priority' });
      await eventually(async () => (await spent(h.store)) > 0);
      // The model has no factor of its own: the default priority factor on what upstream billed.
      expect(await spent(h.store)).toBe(
        Math.ceil(PRIORITY_PRICE_FACTOR * costNanos(PRICE, h.fake.billed[0].usage)),
      );
      const refused = await h
        .client(KEYS.app)
        .chat.completions.create({ ...chatBody(), service_tier: 'scale' })
        .catch((e: unknown) => e);
      expect(refused).toMatchObject({ status: 400, param: 'service_tier' });
    } finally {
      await h.stop();
    }
  });

  it("meters cache writes, reads and the flex tier as upstream billed them, at the model's own rates", async () => {
    // gpt-6.2-sol's card: writes 1.25x input, reads 5%, flex at half price.
    const sol = {
      inputUsdPer1M: 2,
      cachedInputUsdPer1M: 0.1,
      cacheWriteUsdPer1M: 2.5,
      outputUsdPer1M: 10,
      serviceTierFactors: { flex: 0.5 },
    };
    const h = await GatewayHarness.start({
      ...storeOptions(),
      config: {
        stage: `spend-${process.pid}-${++stages}`,
        models: { 'gpt-6.2-sol': sol },
        clients: [
          {
            id: 'app',
            keySha256: sha(KEYS.app),
            rpm: 1000,
            tpm: 1_000_000,
            monthlyBudgetUsd: 1,
            serviceTiers: ['default', 'flex'],
            apiFamilies: ['responses'],
          },
        ],
      },
    });
    try {
      const usage = { input_tokens: 40, cached_tokens: 10, cache_write_tokens: 25, output_tokens: 7 };
      h.fake.enqueue({ usage }, { usage });
      const input = 'x'.repeat(90);
      await h.client().responses.create({ model: 'gpt-6.2-sol', input, store: false });
      await h.client().responses.create({ model: 'gpt-6.2-sol', input, store: false, service_tier: 'flex' });
      const [standard, flex] = h.fake.billed.map((b) => costNanos(sol, b.usage));
      expect(h.fake.billed[0].usage.prompt_tokens_details).toMatchObject({
        cached_tokens: 10,
        cache_write_tokens: 25,
      });
      // 5 uncached + 10 read + 25 written + 7 output: writes are not billed as plain input.
      expect(standard).toBe(5 * 2_000 + 10 * 100 + 25 * 2_500 + 7 * 10_000);
      await eventually(async () => (await spent(h.store)) >= standard + flex / 2);
      expect(await spent(h.store)).toBe(standard + Math.ceil(flex / 2));
    } finally {
      await h.stop();
    }
  });

  it('keeps reasoning tokens inside the output cap: a reasoning model never bills past its reservation', async () => {
    const mini5 = { inputUsdPer1M: 0.25, cachedInputUsdPer1M: 0.025, outputUsdPer1M: 2 };
    const h = await GatewayHarness.start({
      ...storeOptions(),
      config: { stage: `spend-${process.pid}-${++stages}`, models: { 'gpt-5-mini': mini5 } },
    });
    try {
      const sdk = h.client();
      const roomy = await sdk.responses.create({
        model: 'gpt-5-mini',
        input: 'hi',
        reasoning: { effort: 'high' },
      });
      const tight = await sdk.responses.create({ model: 'gpt-5-mini', input: 'hi', max_output_tokens: 16 });
      const sent = h.fake.requestsTo('/v1/responses').map((r) => r.body.max_output_tokens);
      // The default cap is applied when absent, since reasoning tokens count against it.
      expect(sent).toEqual([h.config.limits.defaultMaxTokens, 16]);
      expect(tight.status).toBe('incomplete');
      expect(roomy.usage!.output_tokens_details.reasoning_tokens).toBeGreaterThan(0);
      h.fake.billed.forEach((b, i) => {
        expect(b.usage.completion_tokens_details.reasoning_tokens).toBeGreaterThan(0);
        expect(b.usage.completion_tokens).toBeLessThanOrEqual(sent[i]);
      });
      const billed = h.fake.billed.reduce((n, b) => n + costNanos(mini5, b.usage), 0);
      await eventually(async () => (await spent(h.store)) === billed);
    } finally {
      await h.stop();
    }
  });

  it('charges every attempt that timed out and was retried', async () => {
    // undici's timeouts tick coarsely (about 0.5 s): the delay is far beyond the 300 ms timeout.
    const h = await start({ upstream: { timeoutMs: 300, maxRetries: 2, maxRetryAfterSeconds: 2 } });
    h.fake.enqueue({ delayMs: 2_000 }, { delayMs: 2_000 });
    const reply = await h.client().chat.completions.create(chatBody());
    expect(reply.choices).toHaveLength(1);
    // The fake bills a timed-out attempt when its generation ends, after the delay.
    await h.fake.waitFor(() => h.fake.billed.length === 3, 10_000);
    await eventually(async () => (await spent(h.store)) >= billedNanos(h.fake));
    expect(await spent(h.store)).toBeGreaterThanOrEqual(billedNanos(h.fake));
    // The answered attempt at its usage, the two timed out at their worst case.
    expect(await spent(h.store)).toBe(costNanos(PRICE, h.fake.billed[2].usage) + 2 * WORST_CASE_NANOS);
  });

  it.each([
    ['a string where a number belongs', { prompt_tokens: '12', completion_tokens: 5, total_tokens: 17 }],
    ['a negative count', { prompt_tokens: -1000, completion_tokens: 5, total_tokens: -995 }],
    [
      'more cached than prompt tokens',
      { prompt_tokens: 5, completion_tokens: 5, prompt_tokens_details: { cached_tokens: 9 } },
    ],
    ['no usage at all', undefined],
  ])('settles an answer with %s at its worst case, and the budget still holds', async (_what, usage) => {
    const h = await start({}, budgetFor(2));
    const answer = {
      id: 'chatcmpl-x',
      object: 'chat.completion',
      model: 'gpt-4o-mini',
      choices: [],
      ...(usage ? { usage } : {}),
    };
    h.fake.enqueue({ body: answer }, { body: answer });
    await h.client().chat.completions.create(chatBody('Say hello', { temperature: 0 }));
    await h.client().chat.completions.create(chatBody('Say hello', { temperature: 0 }));
    // Neither answer was cached (a replay of an unmetered answer would be free): both went upstream.
    expect(h.fake.received).toBe(2);
    await eventually(async () => (await spent(h.store)) === 2 * WORST_CASE_NANOS);
    expect(Number.isFinite(await spent(h.store))).toBe(true);
    const refused = await h
      .client()
      .chat.completions.create(chatBody())
      .catch((e: unknown) => e);
    expect(refused).toMatchObject({ status: 429, code: 'insufficient_quota' });
    expect(h.fake.received).toBe(2);
  });

  it('charges a stream the caller left before upstream answered', async () => {
    const h = await start({}, budgetFor(100));
    h.fake.enqueue({ delayMs: 1_000 });
    const controller = new AbortController();
    const stream = h
      .client()
      .chat.completions.create({ ...chatBody(), stream: true }, { signal: controller.signal });
    // Left once upstream has the call and before it answers, however slow the machine is.
    await h.fake.waitFor(() => h.fake.received === 1);
    controller.abort();
    await expect(stream).rejects.toBeInstanceOf(OpenAI.APIUserAbortError);
    await h.fake.waitFor(() => h.fake.billed.length === 1);
    await eventually(async () => (await spent(h.store)) > 0);
    expect(await spent(h.store)).toBeGreaterThanOrEqual(billedNanos(h.fake));
  });
});

import { createHash } from 'node:crypto';
const sha = (s: string) => createHash('sha256').update(s).digest('hex');
