import OpenAI from 'openai';
import { FakeOpenAI } from './fake-openai';

describe('fake OpenAI upstream', () => {
  const fake = new FakeOpenAI();
  let sdk: OpenAI;

  beforeAll(async () => {
    const { url } = await fake.start();
    sdk = new OpenAI({ baseURL: url, apiKey: 'sk-test', maxRetries: 0 });
  });
  afterEach(() => fake.reset());
  afterAll(() => fake.stop());

  it('answers chat completions in the SDK shape and records the request', async () => {
    const res = await sdk.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(res.object).toBe('chat.completion');
    expect(res.choices[0].message.content).toBe(fake.behaviour.text);
    expect(res.usage?.total_tokens).toBe(
      (res.usage?.prompt_tokens ?? 0) + (res.usage?.completion_tokens ?? 0),
    );
    expect(fake.requests[0]).toMatchObject({
      method: 'POST',
      path: '/v1/chat/completions',
      apiKey: 'sk-test',
    });
    expect(fake.requests[0].body.messages).toEqual([{ role: 'user', content: 'hi' }]);
  });

  it('streams chunks and a usage chunk with empty choices when include_usage is set', async () => {
    const stream = await sdk.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    const usage: unknown[] = [];
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      if (chunk.usage) usage.push(chunk.usage);
      if (chunk.usage) expect(chunk.choices).toEqual([]);
    }
    expect(text).toBe(fake.behaviour.text);
    expect(usage).toHaveLength(1);
  });

  it('serves embeddings as base64 (the SDK default) and as floats', async () => {
    const res = await sdk.embeddings.create({ model: 'text-embedding-3-small', input: ['a', 'b'] });
    expect(res.data).toHaveLength(2);
    expect(res.data[0].embedding).toHaveLength(8);
    const floats = await sdk.embeddings.create({ model: 'm', input: 'a', encoding_format: 'float' });
    expect(floats.data[0].embedding[0]).toBeCloseTo(res.data[0].embedding[0], 5);
  });

  it('lists models and flags moderation inputs', async () => {
    const models = await sdk.models.list();
    expect(models.data.map((m) => m.id)).toContain('gpt-4o-mini');
    const mod = await sdk.moderations.create({ model: 'omni-moderation-latest', input: 'please FLAG_ME' });
    expect(mod.results[0].flagged).toBe(true);
  });

  it('plays scripted failures in order: 429 with Retry-After, then 500', async () => {
    fake.enqueue({ status: 429, retryAfter: '1' }, { status: 500 });
    const first = await sdk.models.list().catch((e: unknown) => e);
    expect(first).toBeInstanceOf(OpenAI.RateLimitError);
    expect((first as InstanceType<typeof OpenAI.RateLimitError>).headers.get('retry-after')).toBe('1');
    await expect(sdk.models.list()).rejects.toBeInstanceOf(OpenAI.InternalServerError);
    await expect(sdk.models.list()).resolves.toBeDefined();
  });

  it('answers 401 invalid_api_key to a rejected key', async () => {
    fake.rejectKey('sk-test');
    await expect(sdk.models.list()).rejects.toMatchObject({ status: 401, code: 'invalid_api_key' });
  });

  it('cuts a stream mid-way so the client sees an error', async () => {
    fake.enqueue({ cutAfterChunks: 1, chunks: 4 });
    const stream = await sdk.chat.completions.create({
      model: 'm',
      messages: [{ role: 'user', content: 'x' }],
      stream: true,
    });
    await expect(
      (async () => {
        for await (const _ of stream) void _;
      })(),
    ).rejects.toThrow();
    expect(fake.aborted).toBe(0);
  });

  it('holds a chat stream after its first content chunk until told to go on', async () => {
    let release!: () => void;
    fake.enqueue({ chunks: 4, holdAfterFirstChunk: new Promise<void>((r) => (release = r)) });
    const stream = await sdk.chat.completions.create({
      model: 'm',
      messages: [{ role: 'user', content: 'x' }],
      stream: true,
    });
    const chunks = stream[Symbol.asyncIterator]();
    let text = '';
    while (text === '') text += (await chunks.next()).value?.choices[0]?.delta.content ?? '';
    const next = chunks.next();
    // Unheld, the next chunk follows at once; a late one would only let this pass without the hold.
    const held = await Promise.race([
      next.then(() => 'sent'),
      new Promise((r) => setTimeout(() => r('held'), 100)),
    ]);
    expect(held).toBe('held');
    release();
    for (let r = await next; !r.done; r = await chunks.next())
      text += r.value.choices[0]?.delta.content ?? '';
    expect(text).toBe(fake.behaviour.text);
  });

  it('counts a client that goes away from a hanging request as aborted', async () => {
    fake.enqueue({ hang: true });
    const controller = new AbortController();
    const pending = sdk.models.list({ signal: controller.signal }).catch((e: unknown) => e);
    await fake.waitFor(() => fake.requests.length === 1);
    controller.abort();
    expect(await pending).toBeInstanceOf(OpenAI.APIUserAbortError);
    await fake.waitFor(() => fake.aborted === 1);
  });

  it('routes extra endpoints registered by other tests', async () => {
    fake.route('GET', '/v1/organization/costs', (ctx) => ctx.json(200, { object: 'page', data: [] }));
    const res = await fetch(`${fake.url}/organization/costs`, { headers: { authorization: 'Bearer k' } });
    expect(await res.json()).toEqual({ object: 'page', data: [] });
  });
});
