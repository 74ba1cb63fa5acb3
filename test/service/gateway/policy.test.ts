import OpenAI from 'openai';
import { chatBody, GatewayHarness, KEYS, UPSTREAM_KEY } from '../../support/gateway-harness';

describe('gateway policy: authentication, validation, caps and defaults', () => {
  let h: GatewayHarness;
  let sdk: OpenAI;

  beforeAll(async () => {
    h = await GatewayHarness.start();
    sdk = h.client();
  });
  afterEach(() => h.fake.reset());
  afterAll(() => h.stop());

  it('answers a chat completion through the SDK with the upstream key, org and project, never the caller key', async () => {
    const res = await sdk.chat.completions.create(chatBody());
    expect(res.choices[0].message.content).toBe(h.fake.behaviour.text);
    const [upstream] = h.fake.requests;
    expect(upstream.apiKey).toBe(UPSTREAM_KEY);
    expect(upstream.headers['openai-organization']).toBe('org-test');
    expect(upstream.headers['openai-project']).toBe('proj-test');
    expect(JSON.stringify(upstream.headers)).not.toContain(KEYS.app);
  });

  it.each([
    ['a missing key', undefined],
    ['an unknown key', 'sk-gw-not-a-configured-key'],
  ])('refuses %s with 401 invalid_api_key before upstream', async (_what, key) => {
    const res = await fetch(`${h.url}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
      body: JSON.stringify(chatBody()),
    });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({
      error: {
        message: expect.any(String),
        type: 'invalid_request_error',
        param: null,
        code: 'invalid_api_key',
      },
    });
    expect(h.fake.received).toBe(0);
  });

  it('raises the SDK AuthenticationError for a bad key', async () => {
    await expect(h.client('sk-gw-wrong').models.list()).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
  });

  it('resolves an alias to the real model upstream', async () => {
    const res = await h.client(KEYS.limited).chat.completions.create(chatBody('x', { model: 'fast' }));
    expect(h.fake.requests[0].body.model).toBe('gpt-4o-mini');
    expect(res.model).toBe('gpt-4o-mini');
  });

  it('answers 404 model_not_found for a model the config does not know', async () => {
    const err = await sdk.chat.completions.create(chatBody('x', { model: 'gpt-9' })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.NotFoundError);
    expect(err).toMatchObject({ status: 404, code: 'model_not_found', param: 'model' });
    expect(h.fake.received).toBe(0);
  });

  it('answers 403 for a model outside the caller list', async () => {
    const err = await h
      .client(KEYS.limited)
      .chat.completions.create(chatBody('x', { model: 'gpt-4o' }))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.PermissionDeniedError);
    expect(h.fake.received).toBe(0);
  });

  it('lists only the models and aliases the caller may use', async () => {
    const all = (await sdk.models.list()).data.map((m) => m.id).sort();
    expect(all).toEqual(['embed', 'fast', 'gpt-4o', 'gpt-4o-mini', 'text-embedding-3-small']);
    const limited = (await h.client(KEYS.limited).models.list()).data.map((m) => m.id).sort();
    expect(limited).toEqual(['fast']);
  });

  it.each([
    ['max_tokens', { max_tokens: 1001 }],
    ['max_completion_tokens', { max_completion_tokens: 5000 }],
    ['n', { n: 3 }],
    ['stop', { stop: ['a', 'b', 'c'] }],
    ['max_tokens', { max_tokens: -1 }],
    ['messages', { messages: [] }],
    ['model', { model: 42 }],
    ['stream_options', { stream_options: { include_usage: true } }],
  ])('answers 400 naming param %s, without calling upstream', async (param, extra) => {
    const res = await h.post('/chat/completions', JSON.stringify({ ...chatBody(), ...extra }));
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { param: string; type: string } };
    expect(body.error).toMatchObject({ param, type: 'invalid_request_error' });
    expect(h.fake.received).toBe(0);
  });

  it('applies the default max_completion_tokens when the caller sends none, and keeps an allowed one', async () => {
    await sdk.chat.completions.create(chatBody());
    await sdk.chat.completions.create(chatBody('x', { max_tokens: 20 }));
    expect(h.fake.requests[0].body.max_completion_tokens).toBe(100);
    expect(h.fake.requests[1].body.max_tokens).toBe(20);
    expect(h.fake.requests[1].body.max_completion_tokens).toBeUndefined();
  });

  it('answers 400 to invalid JSON and to a non-object body', async () => {
    const bad = await h.post('/chat/completions', '{"model": ');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { type: string } }).error.type).toBe('invalid_request_error');
    const array = await h.post('/chat/completions', '[1,2]');
    expect(array.status).toBe(400);
    expect(h.fake.received).toBe(0);
  });

  it('answers 413 to a body over the limit', async () => {
    const res = await h.post('/chat/completions', JSON.stringify(chatBody('x'.repeat(5000))));
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({
      error: { type: 'invalid_request_error', code: 'request_too_large' },
    });
    expect(h.fake.received).toBe(0);
  });

  it('answers unknown paths with a 404 in OpenAI shape', async () => {
    const res = await h.post('/assistants', '{}');
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { type: 'invalid_request_error' } });
  });

  it('sends a stable per-client safety identifier and never the raw end-user id', async () => {
    await sdk.chat.completions.create(chatBody());
    await sdk.chat.completions.create(chatBody('x', { user: 'alice@example.com' }));
    await h.client(KEYS.other).chat.completions.create(chatBody('x', { user: 'alice@example.com' }));
    const ids = h.fake.requests.map((r) => r.body.safety_identifier as string);
    expect(ids[0]).toBe('app');
    expect(ids[1]).toMatch(/^app:/);
    expect(ids[2]).toMatch(/^other:/);
    expect(ids[1]).not.toBe(ids[2].replace('other', 'app'));
    for (const r of h.fake.requests) {
      expect(r.body.user).toBeUndefined();
      expect(JSON.stringify(r.body)).not.toContain('alice@example.com');
    }
  });

  it('serves embeddings (base64 as the SDK asks) through an alias', async () => {
    const res = await sdk.embeddings.create({ model: 'embed', input: ['one', 'two'] });
    expect(res.data).toHaveLength(2);
    expect(res.data[0].embedding).toHaveLength(8);
    expect(h.fake.requests[0].body).toMatchObject({ model: 'text-embedding-3-small', user: 'app' });
  });

  it('answers /healthz and /readyz', async () => {
    const base = h.url.replace(/\/v1$/, '');
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
  });

  it('never logs keys or prompt text, and logs one line per request', async () => {
    h.lines.length = 0;
    await sdk.chat.completions.create(chatBody('a very secret prompt'));
    await h.gateway.flushMetrics();
    const text = h.lines.join('\n');
    expect(text).not.toContain(KEYS.app);
    expect(text).not.toContain(UPSTREAM_KEY);
    expect(text).not.toContain('a very secret prompt');
    expect(text).not.toContain(h.fake.behaviour.text);
    const completed = h.logs().filter((l) => l.msg === 'request completed');
    expect(completed).toHaveLength(1);
    expect(completed[0]).toMatchObject({
      status: 200,
      client: 'app',
      model: 'gpt-4o-mini',
      path: '/v1/chat/completions',
    });
  });
});
