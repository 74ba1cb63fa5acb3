import OpenAI from 'openai';
import { chatBody, GatewayHarness, UPSTREAM_KEY } from '../../support/gateway-harness';
import type { UpstreamKeyProvider } from '../../../service/upstream/key';
import { SecretUnavailableError } from '../../../runtime/secrets';
import { Readable } from 'node:stream';
import { parseRetryAfterMs, UpstreamClient } from '../../../service/upstream/client';
import { FakeOpenAI } from '../../support/fake-openai';

/** A key source whose value can change (rotation) and that counts forced re-reads. */
class RotatingKey implements UpstreamKeyProvider {
  refreshes = 0;
  constructor(
    public current: string,
    public failing = false,
  ) {}
  async get() {
    if (this.failing)
      throw new SecretUnavailableError('could not read secret arn:aws:secretsmanager:test (Boom)');
    return this.current;
  }
  async refresh() {
    this.refreshes++;
    return this.get();
  }
}

describe('gateway upstream: retries, timeouts, key rotation, moderation', () => {
  let h: GatewayHarness;
  let sdk: OpenAI;
  const key = new RotatingKey(UPSTREAM_KEY);

  beforeAll(async () => {
    h = await GatewayHarness.start({
      upstreamKey: key,
      config: { upstream: { timeoutMs: 300, maxRetries: 2, maxRetryAfterSeconds: 2 } },
    });
    sdk = h.client();
  });
  afterEach(() => {
    h.fake.reset();
    key.current = UPSTREAM_KEY;
    key.refreshes = 0;
  });
  afterAll(() => h.stop());

  it('retries a 429 and a 500 and then succeeds', async () => {
    h.fake.enqueue({ status: 429, retryAfter: '0' }, { status: 500 });
    const res = await sdk.chat.completions.create(chatBody());
    expect(res.choices[0].message.content).toBe(h.fake.behaviour.text);
    expect(h.fake.received).toBe(3);
  });

  it('honours retry-after-ms between attempts', async () => {
    h.fake.enqueue({ status: 429, headers: { 'retry-after-ms': '150' } });
    const started = performance.now();
    await sdk.chat.completions.create(chatBody());
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
    expect(h.fake.received).toBe(2);
  });

  it('keeps a 429 a 429 with Retry-After once retries are spent', async () => {
    h.fake.enqueue(
      { status: 429, retryAfter: '0' },
      { status: 429, retryAfter: '0' },
      { status: 429, retryAfter: '0' },
    );
    const err = await sdk.chat.completions.create(chatBody()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    expect((err as InstanceType<typeof OpenAI.RateLimitError>).headers.get('retry-after')).toBe('1');
    expect(err).toMatchObject({ code: 'rate_limit_exceeded' });
    expect(h.fake.received).toBe(3);
  });

  it('gives up at once when Retry-After is longer than the cap, and passes it on', async () => {
    h.fake.enqueue({ status: 429, retryAfter: '30' });
    const err = await sdk.chat.completions.create(chatBody()).catch((e: unknown) => e);
    expect((err as InstanceType<typeof OpenAI.RateLimitError>).headers.get('retry-after')).toBe('30');
    expect(h.fake.received).toBe(1);
  });

  it("relays OpenAI's 429 status, code and Retry-After with the gateway's own message, never the organization", async () => {
    const message =
      'Rate limit reached for gpt-4o-mini in organization org-SECRET123 on requests per min (RPM): Limit 500, Used 500, Requested 1.';
    h.fake.enqueue({
      status: 429,
      retryAfter: '30',
      body: { error: { message, type: 'requests', param: null, code: 'rate_limit_exceeded' } },
    });
    const res = await h.post('/chat/completions', JSON.stringify(chatBody()));
    const text = await res.text();
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('30');
    expect(text).not.toContain('org-SECRET123');
    expect(text).not.toContain('Limit 500');
    expect(JSON.parse(text)).toEqual({
      error: {
        message: 'The upstream model API is rate limiting this gateway. Please try again in 30s.',
        type: 'requests',
        param: null,
        code: 'rate_limit_exceeded',
      },
    });
  });

  it('does not retry OpenAI insufficient_quota', async () => {
    h.fake.enqueue({
      status: 429,
      body: {
        error: { message: 'quota', type: 'insufficient_quota', param: null, code: 'insufficient_quota' },
      },
    });
    const err = await sdk.chat.completions.create(chatBody()).catch((e: unknown) => e);
    expect(err).toMatchObject({
      status: 429,
      code: 'insufficient_quota',
      message: "429 The gateway's upstream OpenAI quota is exhausted; the operator has been alerted.",
    });
    expect(h.fake.received).toBe(1);
  });

  it('turns persistent 5xx into 502', async () => {
    h.fake.enqueue({ status: 500 }, { status: 502 }, { status: 503 });
    const err = await sdk.chat.completions.create(chatBody()).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 502, type: 'server_error' });
    expect(h.fake.received).toBe(3);
  });

  it('turns persistent timeouts into 504', async () => {
    h.fake.enqueue({ hang: true }, { hang: true }, { hang: true });
    const err = await sdk.chat.completions.create(chatBody()).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 504, code: 'upstream_timeout' });
    expect(h.fake.received).toBe(3);
  });

  it('retries a timeout and succeeds', async () => {
    // A hang, not a delay: undici's headersTimeout runs on its coarse "fast timers" (about 0.5 s ticks),
    // so a delay only slightly above the timeout can win the race on a loaded machine.
    h.fake.enqueue({ hang: true });
    await expect(sdk.chat.completions.create(chatBody())).resolves.toBeDefined();
    expect(h.fake.received).toBe(2);
  });

  it('passes an upstream 400 through unchanged and does not retry it', async () => {
    const body = {
      error: { message: 'bad temperature', type: 'invalid_request_error', param: 'temperature', code: null },
    };
    h.fake.enqueue({ status: 400, body });
    const err = await sdk.chat.completions.create(chatBody()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect(err).toMatchObject({ param: 'temperature' });
    expect(h.fake.received).toBe(1);
  });

  it('re-reads a rotated key once after an upstream 401', async () => {
    h.fake.rejectKey('sk-old');
    key.current = 'sk-old';
    const pending = sdk.chat.completions.create(chatBody());
    await h.fake.waitFor(() => h.fake.received === 1);
    key.current = 'sk-new';
    await expect(pending).resolves.toBeDefined();
    expect(key.refreshes).toBe(1);
    expect(h.fake.requests.map((r) => r.apiKey)).toEqual(['sk-old', 'sk-new']);
  });

  it('answers 502 when the re-read key is rejected too', async () => {
    h.fake.rejectKey('sk-revoked');
    key.current = 'sk-revoked';
    const err = await sdk.chat.completions.create(chatBody()).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 502 });
    expect(h.fake.received).toBe(2);
  });

  it('answers 503 with a clear error while the key secret cannot be read, and is not ready', async () => {
    key.failing = true;
    try {
      const err = await sdk.chat.completions.create(chatBody()).catch((e: unknown) => e);
      expect(err).toMatchObject({ status: 503 });
      expect((err as Error).message).toMatch(/upstream credentials/);
      expect(h.fake.received).toBe(0);
    } finally {
      key.failing = false;
    }
  });
});

describe('gateway start without a readable upstream key', () => {
  it('stays not ready until the key can be read, without crashing', async () => {
    const key = new RotatingKey('sk-later', true);
    const h = await GatewayHarness.start({ upstreamKey: key, gateway: { keyRetryMs: 50 } });
    try {
      const base = h.url.replace(/\/v1$/, '');
      expect((await fetch(`${base}/readyz`)).status).toBe(503);
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      expect(h.lines.join('\n')).toContain('upstream key unavailable');
      key.failing = false;
      await h.fake.waitFor(() => h.gateway.ready, 2000);
      expect((await fetch(`${base}/readyz`)).status).toBe(200);
    } finally {
      await h.stop();
    }
  });
});

describe('gateway moderation pre-check', () => {
  let h: GatewayHarness;
  beforeAll(async () => {
    h = await GatewayHarness.start({ config: { moderation: { enabled: true } } });
  });
  afterEach(() => h.fake.reset());
  afterAll(() => h.stop());

  it('checks the input and passes clean requests on', async () => {
    await h.client().chat.completions.create(chatBody('hello'));
    expect(h.fake.requests.map((r) => r.path)).toEqual(['/v1/moderations', '/v1/chat/completions']);
    expect(h.fake.requests[0].body).toEqual({ model: 'omni-moderation-latest', input: 'hello' });
  });

  it('refuses flagged input with 400 content_flagged without calling the model', async () => {
    const err = await h
      .client()
      .chat.completions.create(chatBody('please FLAG_ME'))
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 400, code: 'content_flagged' });
    expect(h.fake.requests.map((r) => r.path)).toEqual(['/v1/moderations']);
  });

  it.each([
    [
      'a tool description',
      { tools: [{ type: 'function', function: { name: 'f', description: 'do FLAG_ME' } }] },
    ],
    [
      'the arguments of an earlier tool call',
      {
        messages: [
          { role: 'user', content: 'go' },
          {
            role: 'assistant',
            content: null,
            tool_calls: [
              { id: 'c1', type: 'function', function: { name: 'f', arguments: '{"q":"FLAG_ME"}' } },
            ],
          },
          { role: 'tool', tool_call_id: 'c1', content: 'ok' },
        ],
      },
    ],
    [
      'a response schema',
      {
        response_format: {
          type: 'json_schema',
          json_schema: { name: 's', schema: { description: 'FLAG_ME' } },
        },
      },
    ],
  ])('refuses flagged text in %s: everything the model reads is moderated', async (_where, extra) => {
    const res = await h.post('/chat/completions', JSON.stringify({ ...chatBody('clean'), ...extra }));
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('content_flagged');
    expect(h.fake.requestsTo('/v1/chat/completions')).toHaveLength(0);
  });

  it('fails closed (502) when the moderation answer has no results', async () => {
    h.fake.enqueue({ path: '/v1/moderations', body: { id: 'modr-x', model: 'omni-moderation-latest' } });
    const err = await h
      .client()
      .chat.completions.create(chatBody('x'))
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 502 });
    expect(h.fake.requestsTo('/v1/chat/completions')).toHaveLength(0);
  });

  it('fails closed (502) when the moderation check cannot run', async () => {
    h.fake.enqueue(
      { path: '/v1/moderations', status: 500 },
      { path: '/v1/moderations', status: 500 },
      { path: '/v1/moderations', status: 500 },
    );
    const err = await h
      .client()
      .chat.completions.create(chatBody('x'))
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 502 });
    expect(h.fake.requestsTo('/v1/chat/completions')).toHaveLength(0);
  });
});

describe('Retry-After', () => {
  it('parses retry-after-ms, seconds and HTTP dates', () => {
    expect(parseRetryAfterMs({ 'retry-after-ms': '250' })).toBe(250);
    expect(parseRetryAfterMs({ 'retry-after': '2' })).toBe(2000);
    // An HTTP date counts from the clock, across a year end; one in the past means now.
    const clock = () => Date.parse('2026-12-31T23:59:30.000Z');
    expect(parseRetryAfterMs({ 'retry-after': 'Fri, 01 Jan 2027 00:00:30 GMT' }, clock)).toBe(60_000);
    expect(parseRetryAfterMs({ 'retry-after': 'Thu, 31 Dec 2026 23:00:00 GMT' }, clock)).toBe(0);
    expect(parseRetryAfterMs({})).toBeUndefined();
  });
});

describe('UpstreamClient extra headers', () => {
  it("sends a route's extra headers, and none of them can replace the gateway's key or project", async () => {
    const fake = new FakeOpenAI();
    await fake.start();
    const client = new UpstreamClient({
      baseUrl: fake.url,
      key: new RotatingKey(UPSTREAM_KEY),
      project: 'proj-stage',
      timeoutMs: 2_000,
      maxRetries: 0,
      maxRetryAfterSeconds: 0,
    });
    try {
      const up = await client.send({
        path: '/traces/ingest',
        payload: JSON.stringify({ data: [] }),
        headers: { 'openai-beta': 'traces=v1', authorization: 'Bearer sk-caller', 'openai-project': 'x' },
        signal: new AbortController().signal,
      });
      await up.body.dump();
      expect(up.status).toBe(204);
      const [sent] = fake.requests;
      expect(sent.headers['openai-beta']).toBe('traces=v1');
      expect(sent.apiKey).toBe(UPSTREAM_KEY);
      expect(sent.headers['openai-project']).toBe('proj-stage');
    } finally {
      await client.close();
      await fake.stop();
    }
  });
});

describe('UpstreamClient: a streamed body', () => {
  const fake = new FakeOpenAI();
  beforeAll(() => fake.start());
  afterEach(() => fake.reset());
  afterAll(() => fake.stop());

  const client = () =>
    new UpstreamClient({
      baseUrl: fake.url,
      key: { get: async () => UPSTREAM_KEY, refresh: async () => UPSTREAM_KEY },
      timeoutMs: 1_000,
      maxRetries: 2,
      maxRetryAfterSeconds: 1,
      retryBaseDelayMs: 1,
    });

  it('is sent with its own content type and length, and is not retried once a byte has gone', async () => {
    fake.enqueue({ path: '/v1/moderations', status: 500 }, { path: '/v1/moderations', status: 500 });
    const upstream = client();
    const body = Buffer.from('{"input":"x"}');
    const err = await upstream
      .send({
        path: '/moderations',
        streamed: {
          body: Readable.from([body]),
          contentType: 'application/json; charset=utf-8',
          contentLength: body.length,
          started: () => true,
        },
        signal: new AbortController().signal,
      })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 502 });
    expect(fake.requestsTo('/v1/moderations')).toHaveLength(1);
    expect(fake.requests[0].headers).toMatchObject({
      'content-type': 'application/json; charset=utf-8',
      'content-length': String(body.length),
    });
    await upstream.close();
  });

  it('is retried while none of it has gone', async () => {
    fake.enqueue({ path: '/v1/moderations', status: 500 });
    const upstream = client();
    const up = await upstream.send({
      path: '/moderations',
      streamed: { body: Readable.from([]), contentType: 'application/json', started: () => false },
      signal: new AbortController().signal,
    });
    await up.body.dump();
    expect(fake.requestsTo('/v1/moderations')).toHaveLength(2);
    await upstream.close();
  });
});
