/**
 * Prompt caching per client: a call without `prompt_cache_key` goes upstream with one per client (OpenAI
 * routes a key's requests to the same cache), a caller's own key is kept, and the cached share of each
 * client's input tokens is published from what upstream billed as cached.
 */
import { chatBody, GatewayHarness, KEYS } from '../../support/gateway-harness';
import { eventually } from '../../support/eventually';

type Emf = Record<string, unknown>;

let h: GatewayHarness;
beforeAll(async () => {
  h = await GatewayHarness.start();
});
afterAll(() => h.stop());
beforeEach(() => h.fake.reset());

const keysSent = (path: string): unknown[] =>
  h.fake.requests.filter((r) => r.path === path).map((r) => (r.body as Emf).prompt_cache_key);

describe('prompt_cache_key', () => {
  it('is set per client on chat and Responses when the caller sends none', async () => {
    await h.client().chat.completions.create(chatBody());
    await h.client(KEYS.other).chat.completions.create(chatBody());
    await h.client().responses.create({ model: 'gpt-4o-mini', input: 'hi' });
    await h.client(KEYS.other).responses.create({ model: 'gpt-4o-mini', input: 'hi', stream: false });
    expect(keysSent('/v1/chat/completions')).toEqual(['client:app', 'client:other']);
    expect(keysSent('/v1/responses')).toEqual(['client:app', 'client:other']);
  });

  it("keeps the caller's own key, and refuses one that is not a string", async () => {
    await h.client().chat.completions.create({ ...chatBody(), prompt_cache_key: 'tenant-7' });
    const stream = await h.client().responses.create({
      model: 'gpt-4o-mini',
      input: 'hi',
      stream: true,
      prompt_cache_key: 'tenant-8',
    });
    for await (const _event of stream) void _event;
    expect(keysSent('/v1/chat/completions')).toEqual(['tenant-7']);
    expect(keysSent('/v1/responses')).toEqual(['tenant-8']);
    const refused = await h
      .client()
      .chat.completions.create({ ...chatBody(), prompt_cache_key: 7 as unknown as string })
      .catch((e: unknown) => e);
    expect(refused).toMatchObject({ status: 400, param: 'prompt_cache_key' });
    expect(h.fake.requests.filter((r) => r.path === '/v1/chat/completions')).toHaveLength(1);
  });
});

describe('the cached share of input tokens', () => {
  it('is published per client from the cached tokens upstream billed', async () => {
    // A gateway of its own: no other test's calls in its metrics.
    await h.stop();
    h = await GatewayHarness.start();
    h.fake.enqueue(
      { usage: { prompt_tokens: 2_000, completion_tokens: 5, cached_tokens: 1_536 } },
      { usage: { input_tokens: 1_200, output_tokens: 5, cached_tokens: 1_024 } },
      { usage: { prompt_tokens: 1_500, completion_tokens: 5 } },
    );
    await h.client().chat.completions.create(chatBody());
    await h.client().responses.create({ model: 'gpt-4o-mini', input: 'hi' });
    await h.client(KEYS.other).chat.completions.create(chatBody());
    const billed = h.fake.billed;
    expect(billed).toHaveLength(3);

    const lines: Emf[] = [];
    // The metrics entry is written once each call has settled, after its answer.
    await eventually(async () => {
      h.lines.length = 0;
      await h.gateway.flushMetrics();
      lines.push(...h.logs().filter((l) => l._aws));
      const requests = lines.filter((l) => l.Client).reduce((n, l) => n + (l.Requests as number), 0);
      return requests >= 3;
    });
    const sum = (client: string, metric: string) =>
      lines.filter((l) => l.Client === client).reduce((n, l) => n + ((l[metric] as number) ?? 0), 0);
    const cachedOf = (i: number) => billed[i].usage.prompt_tokens_details.cached_tokens;
    expect(sum('app', 'CachedPromptTokens')).toBe(cachedOf(0) + cachedOf(1));
    expect(sum('app', 'PromptTokens')).toBe(billed[0].usage.prompt_tokens + billed[1].usage.prompt_tokens);
    expect(sum('other', 'CachedPromptTokens')).toBe(0);
    expect(sum('other', 'PromptTokens')).toBe(billed[2].usage.prompt_tokens);
    const byClient = lines.find((l) => l.Client === 'app')!;
    const declared = (byClient._aws as { CloudWatchMetrics: Array<{ Metrics: Array<{ Name: string }> }> })
      .CloudWatchMetrics[0].Metrics;
    expect(declared).toContainEqual({ Name: 'CachedPromptTokens', Unit: 'Count' });
  });
});
