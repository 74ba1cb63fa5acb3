import type { ModelPrice } from '../../../runtime/gateway-config';
import { GatewayError } from '../../../service/errors';
import { chatBody, testConfigDocument } from '../../support/gateway-harness';
import { MemoryResponse } from '../../support/memory-response';
import {
  eventually,
  startPipeline,
  type PipelineHarness,
  type PipelineHarnessOptions,
} from '../../support/pipeline-harness';

interface Usage {
  readonly prompt_tokens: number;
  readonly completion_tokens: number;
}

/** What upstream billed for `usage`, in nano-dollars: USD per 1M tokens is nano-dollars per 1e-3 token. */
const billedNanos = (usage: Usage, price: ModelPrice): number =>
  Math.ceil(
    (usage.prompt_tokens * price.inputUsdPer1M + usage.completion_tokens * price.outputUsdPer1M) * 1000,
  );

const usageOfBody = (body: string): Usage => (JSON.parse(body) as { usage: Usage }).usage;

/** The usage chunk of a relayed chat stream. */
function usageOfStream(text: string): Usage {
  const frame = text.split('\n\n').find((f) => f.includes('"usage":{'));
  if (!frame) throw new Error('no usage chunk in the stream');
  return (JSON.parse(frame.slice('data: '.length)) as { usage: Usage }).usage;
}

/** The test config's clients with one of them changed (arrays are replaced by a config patch). */
const clientsWith = (id: string, patch: Record<string, unknown>) =>
  (testConfigDocument().clients as Array<Record<string, unknown>>).map((c) =>
    c.id === id ? { ...c, ...patch } : c,
  );

const RATE_LIMIT_HEADERS = [
  'x-ratelimit-limit-requests',
  'x-ratelimit-remaining-requests',
  'x-ratelimit-reset-requests',
  'x-ratelimit-limit-tokens',
  'x-ratelimit-remaining-tokens',
  'x-ratelimit-reset-tokens',
];

/** Seconds from the test clock's instant (17 June, 10:30 UTC) to the next UTC month. */
const SECONDS_TO_JULY = (13 * 24 + 13.5) * 3600;

describe('runModelCall', () => {
  let open: PipelineHarness[] = [];
  const start = async (options?: PipelineHarnessOptions): Promise<PipelineHarness> => {
    const h = await startPipeline(options);
    open.push(h);
    return h;
  };
  afterEach(async () => {
    await Promise.all(open.map((h) => h.close()));
    open = [];
  });

  describe('a JSON call that misses the cache', () => {
    it('is sent with the caller rate-limit headers and MISS, and charges what upstream billed', async () => {
      const h = await start();
      const { result, response } = await h.chat(chatBody('Say hello', { temperature: 0 }));

      expect(result.error).toBeUndefined();
      expect(response.problems).toEqual([]);
      expect(response.sent).toMatchObject({ status: 200, contentType: 'json' });
      const headers = response.sent!.headers;
      expect(Object.keys(headers).sort()).toEqual([...RATE_LIMIT_HEADERS, 'x-cache-status'].sort());
      expect(headers['x-cache-status']).toBe('MISS');
      expect(headers['x-ratelimit-limit-requests']).toBe('1000');
      expect(headers['x-ratelimit-remaining-requests']).toBe('999');
      expect(headers['x-ratelimit-reset-requests']).toBe('60ms');
      expect(headers['x-ratelimit-limit-tokens']).toBe('1000000');
      // 10 prompt tokens estimated + the default cap of 100 completion tokens, reserved on the clock.
      expect(Number(headers['x-ratelimit-remaining-tokens'])).toBeGreaterThanOrEqual(1_000_000 - 111);
      expect(Number(headers['x-ratelimit-remaining-tokens'])).toBeLessThanOrEqual(1_000_000 - 110);

      const usage = usageOfBody(response.sent!.body);
      const cost = billedNanos(usage, h.config.models['gpt-4o-mini']);
      expect(cost).toBeGreaterThan(0);
      expect(await h.store.monthToDateSpendNanos()).toBe(cost);
      expect(result.trace).toMatchObject({
        model: 'gpt-4o-mini',
        cache: 'MISS',
        budgetExceeded: false,
        metered: {
          promptTokens: usage.prompt_tokens,
          completionTokens: usage.completion_tokens,
          costNanos: cost,
        },
      });
      expect(result.headers).toEqual(headers);
    });

    it('sends upstream the prepared body: real model, default cap, safety identifier and cache key', async () => {
      const h = await start();
      await h.chat(chatBody('Say hello', { model: 'fast', temperature: 0 }));

      const [sent] = h.fake.requestsTo('/v1/chat/completions');
      expect(sent.body).toEqual({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: 'Say hello' }],
        temperature: 0,
        max_completion_tokens: 100,
        safety_identifier: 'app',
        prompt_cache_key: 'client:app',
      });
    });

    it('is BYPASS when the temperature is not 0, and each such call goes upstream', async () => {
      const h = await start();
      const first = await h.chat(chatBody('Say hello', { temperature: 0.7 }));
      const second = await h.chat(chatBody('Say hello', { temperature: 0.7 }));

      expect(first.response.sent!.headers['x-cache-status']).toBe('BYPASS');
      expect(second.response.sent!.headers['x-cache-status']).toBe('BYPASS');
      expect(first.result.trace.cache).toBe('BYPASS');
      expect(h.fake.requests).toHaveLength(2);
      const price = h.config.models['gpt-4o-mini'];
      expect(await h.store.monthToDateSpendNanos()).toBe(
        billedNanos(usageOfBody(first.response.sent!.body), price) +
          billedNanos(usageOfBody(second.response.sent!.body), price),
      );
    });

    it('charges the usage upstream reported, however far it is from the reservation', async () => {
      const h = await start();
      h.fake.enqueue({ usage: { prompt_tokens: 2000, completion_tokens: 500 } });
      const { result } = await h.chat(chatBody('Say hello', { model: 'gpt-4o' }));

      // gpt-4o: 2000 x $2.50/1M + 500 x $10/1M = $0.01
      expect(await h.store.monthToDateSpendNanos()).toBe(10_000_000);
      expect(result.trace.metered).toEqual({
        promptTokens: 2000,
        cachedPromptTokens: 0,
        completionTokens: 500,
        costNanos: 10_000_000,
      });
    });
  });

  it('answers a second identical temperature-0 call from the cache: no upstream request, no spend', async () => {
    const h = await start();
    const body = chatBody('Say hello', { temperature: 0 });
    const first = await h.chat(body);
    const spend = await h.store.monthToDateSpendNanos();
    const second = await h.chat(body);

    expect(h.fake.requests).toHaveLength(1);
    expect(second.response.sent).toMatchObject({
      status: 200,
      contentType: 'json',
      body: first.response.sent!.body,
    });
    expect(second.response.sent!.headers['x-cache-status']).toBe('HIT');
    expect(second.response.sent!.headers['x-ratelimit-remaining-requests']).toBe('998');
    expect(second.result.trace).toMatchObject({
      cache: 'HIT',
      budgetExceeded: false,
      metered: { promptTokens: 0, cachedPromptTokens: 0, completionTokens: 0, costNanos: 0 },
    });
    expect(await h.store.monthToDateSpendNanos()).toBe(spend);
  });

  it('returns a validation error with its param, sending nothing and reserving nothing', async () => {
    const h = await start();
    const admit = jest.spyOn(h.store, 'admit');
    const { result, response } = await h.chat(chatBody('Say hello', { temperature: 'hot' }));

    expect(result.error).toBeInstanceOf(GatewayError);
    expect(result.error).toMatchObject({
      status: 400,
      type: 'invalid_request_error',
      param: 'temperature',
      message: "'temperature' must be a number.",
    });
    expect(response.started).toBe(false);
    expect(response.sent).toBeUndefined();
    expect(admit).not.toHaveBeenCalled();
    expect(h.fake.requests).toHaveLength(0);
    expect(await h.store.monthToDateSpendNanos()).toBe(0);
    expect(result.trace).toEqual({
      metered: { promptTokens: 0, cachedPromptTokens: 0, completionTokens: 0, costNanos: 0 },
      budgetExceeded: false,
      attempts: { throttled: 0, errors: 0, unanswered: 0 },
    });
  });

  it('refuses a call over the client budget with 429 insufficient_quota and the rate-limit headers', async () => {
    // $0.00001 is less than the worst case of one call (10 prompt + 100 completion tokens).
    const h = await start({ config: { clients: clientsWith('app', { monthlyBudgetUsd: 0.00001 }) } });
    const { result, response } = await h.chat(chatBody());

    const error = result.error as GatewayError;
    expect(error).toBeInstanceOf(GatewayError);
    expect(error).toMatchObject({ status: 429, type: 'insufficient_quota', code: 'insufficient_quota' });
    expect(error.message).toContain('the application monthly budget is spent');
    expect(Object.keys(error.headers).sort()).toEqual([...RATE_LIMIT_HEADERS, 'retry-after'].sort());
    expect(error.headers['retry-after']).toBe(String(SECONDS_TO_JULY));
    expect(error.headers['x-ratelimit-limit-requests']).toBe('1000');
    expect(result.trace).toMatchObject({ model: 'gpt-4o-mini', budgetExceeded: true });
    expect(response.started).toBe(false);
    expect(h.fake.requests).toHaveLength(0);
    expect(await h.store.monthToDateSpendNanos()).toBe(0);
  });

  it('refuses a call over the client TPM with 429 rate_limit_exceeded, not as a budget refusal', async () => {
    const h = await start({ config: { clients: clientsWith('app', { tpm: 1000 }) } });
    // The first call reports 990 tokens: settled against TPM, 10 are left for the next minute's refill.
    h.fake.enqueue({ usage: { prompt_tokens: 950, completion_tokens: 40 } });
    const first = await h.chat(chatBody());
    expect(first.result.error).toBeUndefined();

    const { result, response } = await h.chat(chatBody());
    const error = result.error as GatewayError;
    expect(error).toMatchObject({ status: 429, type: 'tokens', code: 'rate_limit_exceeded' });
    // 110 tokens fit once the 990 used are 60 s x 100/1000 = 6 s of refill from fitting.
    expect(error.headers['retry-after']).toBe('6');
    expect(error.headers['x-ratelimit-limit-tokens']).toBe('1000');
    expect(error.headers['x-ratelimit-remaining-tokens']).toBe('10');
    expect(result.trace.budgetExceeded).toBe(false);
    expect(response.started).toBe(false);
    expect(h.fake.requests).toHaveLength(1);
  });

  it('returns 502 when upstream fails with 500 on every attempt, and gives the reservation back', async () => {
    const h = await start();
    h.fake.enqueue({ status: 500 }, { status: 500 }, { status: 500 });
    const { result, response } = await h.chat(chatBody());

    expect(result.error).toBeInstanceOf(GatewayError);
    expect(result.error).toMatchObject({
      status: 502,
      code: 'upstream_error',
      message: 'The upstream model API failed with status 500 after retries.',
    });
    expect(h.fake.received).toBe(3);
    expect(result.trace.attempts).toEqual({ throttled: 0, errors: 3, unanswered: 0 });
    expect(result.trace.metered).toEqual({
      promptTokens: 0,
      cachedPromptTokens: 0,
      completionTokens: 0,
      costNanos: 0,
    });
    expect(result.headers!['x-cache-status']).toBe('BYPASS');
    expect(response.started).toBe(false);
    expect(await h.store.monthToDateSpendNanos()).toBe(0);
  });

  describe('a streamed call', () => {
    it('writes every frame, ends, and charges the usage the stream reported', async () => {
      const h = await start();
      const { result, response } = await h.chat(
        chatBody('Say hello', { stream: true, stream_options: { include_usage: true } }),
      );

      expect(result.error).toBeUndefined();
      expect(response.problems).toEqual([]);
      expect(response.sent).toBeUndefined();
      expect(response.streamHeaders!['x-cache-status']).toBe('BYPASS');
      expect(response.streamHeaders!['x-ratelimit-limit-requests']).toBe('1000');
      expect(response.ended).toBe(true);
      const text = response.streamText;
      expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
      const content = text
        .split('\n\n')
        .filter((f) => f.startsWith('data: {'))
        .map((f) => JSON.parse(f.slice(6)) as { choices: Array<{ delta: { content?: string } }> })
        .map((c) => c.choices[0]?.delta.content ?? '')
        .join('');
      expect(content).toBe(h.fake.behaviour.text);

      const usage = usageOfStream(text);
      const cost = billedNanos(usage, h.config.models['gpt-4o-mini']);
      expect(await h.store.monthToDateSpendNanos()).toBe(cost);
      expect(result.trace).toMatchObject({
        cache: 'BYPASS',
        streamOutcome: 'complete',
        timeToFirstTokenMs: expect.any(Number),
        upstreamMs: expect.any(Number),
        metered: { promptTokens: usage.prompt_tokens, completionTokens: usage.completion_tokens },
      });
    });

    it('ends the upstream request when the caller leaves mid-stream', async () => {
      const h = await start();
      h.fake.enqueue({ chunks: 20, chunkDelayMs: 20 });
      const response = new MemoryResponse();
      const call = h.chat(chatBody('Say hello', { stream: true }), { response });
      await eventually(() => response.writes.length >= 2);
      response.abort();
      const { result } = await call;

      expect(result.error).toBeUndefined();
      expect(result.trace.streamOutcome).toBe('caller_aborted');
      expect(response.ended).toBe(false);
      await h.fake.waitFor(() => h.fake.aborted === 1);
      // No usage arrived, and upstream may bill the whole generation: the worst case is charged,
      // the prompt estimate and the full default output cap (100 tokens).
      expect(result.trace.metered).toMatchObject({
        promptTokens: 10,
        cachedPromptTokens: 0,
        completionTokens: 100,
      });
      // 10 x $0.15 + 100 x $0.60 per 1M tokens, in nano-dollars.
      expect(result.trace.metered.costNanos).toBe(61_500);
      expect(await h.store.monthToDateSpendNanos()).toBe(61_500);
    });
  });

  it('replays a cached temperature-0 stream as a whole SSE answer', async () => {
    const h = await start();
    const body = chatBody('Say hello', { stream: true, temperature: 0 });
    const first = await h.chat(body);
    const second = await h.chat(body);

    expect(first.result.trace).toMatchObject({ cache: 'MISS', streamOutcome: 'complete' });
    expect(first.response.streamHeaders!['x-cache-status']).toBe('MISS');
    expect(h.fake.requests).toHaveLength(1);
    expect(second.response.sent).toMatchObject({
      status: 200,
      contentType: 'sse',
      body: first.response.streamText,
    });
    expect(second.response.sent!.headers['x-cache-status']).toBe('HIT');
    expect(second.result.trace.cache).toBe('HIT');
  });

  it('refuses flagged input when moderation is on: the model is not called, nothing is charged', async () => {
    const h = await start({ config: { moderation: { enabled: true } } });
    const { result, response } = await h.chat(chatBody('please FLAG_ME'));

    expect(result.error).toMatchObject({ status: 400, code: 'content_flagged' });
    expect(response.started).toBe(false);
    expect(h.fake.requestsTo('/v1/moderations')).toHaveLength(1);
    expect(h.fake.requestsTo('/v1/chat/completions')).toHaveLength(0);
    expect(await h.store.monthToDateSpendNanos()).toBe(0);
  });

  it('makes one upstream request for identical cacheable JSON calls in flight together', async () => {
    const h = await start();
    const body = chatBody('Say hello', { temperature: 0 });
    h.fake.enqueue({ delayMs: 250 });
    const leader = h.chat(body);
    await h.fake.waitFor(() => h.fake.requests.length === 1);
    const follower = h.chat(body);
    const [a, b] = await Promise.all([leader, follower]);

    expect(h.fake.requests).toHaveLength(1);
    expect(a.result.trace.cache).toBe('MISS');
    expect(b.result.trace.cache).toBe('HIT');
    expect(b.response.sent).toMatchObject({ status: 200, body: a.response.sent!.body });
    expect(b.response.sent!.headers['x-cache-status']).toBe('HIT');
    expect(b.result.trace.metered).toEqual({
      promptTokens: 0,
      cachedPromptTokens: 0,
      completionTokens: 0,
      costNanos: 0,
    });
    expect(await h.store.monthToDateSpendNanos()).toBe(a.result.trace.metered.costNanos);
  });

  it('makes one upstream request for identical cacheable JSON calls admitted in the same tick', async () => {
    const h = await start();
    const body = chatBody('Same tick', { temperature: 0 });
    h.fake.enqueue({ delayMs: 100 });
    const [a, b] = await Promise.all([h.chat(body), h.chat(body)]);

    expect(h.fake.requests).toHaveLength(1);
    expect([a.result.trace.cache, b.result.trace.cache].sort()).toEqual(['HIT', 'MISS']);
    expect(b.response.sent!.body).toBe(a.response.sent!.body);
  });
});
