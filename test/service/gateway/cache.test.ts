import OpenAI from 'openai';
import { chatBody, GatewayHarness, KEYS } from '../../support/gateway-harness';

const det = (content = 'cache me', extra: Record<string, unknown> = {}) =>
  chatBody(content, { temperature: 0, ...extra });

async function withStatus<T>(p: { withResponse(): Promise<{ data: T; response: Response }> }) {
  const { data, response } = await p.withResponse();
  return { data, cache: response.headers.get('x-cache-status') };
}

describe('gateway response cache', () => {
  let h: GatewayHarness;
  let sdk: OpenAI;

  beforeAll(async () => {
    h = await GatewayHarness.start();
    sdk = h.client();
  });
  afterEach(() => h.fake.reset());
  afterAll(() => h.stop());

  it('serves a repeated temperature-0 chat from the cache: MISS then HIT, one upstream call', async () => {
    const first = await withStatus(sdk.chat.completions.create(det('one')));
    const second = await withStatus(sdk.chat.completions.create(det('one')));
    expect([first.cache, second.cache]).toEqual(['MISS', 'HIT']);
    expect(second.data).toEqual(first.data);
    expect(h.fake.received).toBe(1);
  });

  it('keys on the normalized request: member order does not matter, content does', async () => {
    await h.post('/chat/completions', JSON.stringify({ temperature: 0, ...chatBody('order') }));
    const reordered = await h.post(
      '/chat/completions',
      JSON.stringify({
        messages: [{ content: 'order', role: 'user' }],
        temperature: 0,
        model: 'gpt-4o-mini',
      }),
    );
    expect(reordered.headers.get('x-cache-status')).toBe('HIT');
    const other = await withStatus(sdk.chat.completions.create(det('order!')));
    expect(other.cache).toBe('MISS');
  });

  it('scopes entries per client', async () => {
    await sdk.chat.completions.create(det('scoped'));
    const other = await withStatus(h.client(KEYS.other).chat.completions.create(det('scoped')));
    expect(other.cache).toBe('MISS');
    expect(h.fake.received).toBe(2);
  });

  it('bypasses the cache for non-deterministic requests and for Cache-Control: no-cache', async () => {
    const random = await withStatus(sdk.chat.completions.create(chatBody('random')));
    expect(random.cache).toBe('BYPASS');
    await sdk.chat.completions.create(det('nocache'));
    const bypass = await h.post('/chat/completions', JSON.stringify(det('nocache')), {
      'cache-control': 'no-cache',
    });
    expect(bypass.headers.get('x-cache-status')).toBe('BYPASS');
    expect(h.fake.received).toBe(3);
  });

  it('never caches errors or upstream 429s', async () => {
    h.fake.enqueue({ status: 400 });
    await expect(sdk.chat.completions.create(det('err'))).rejects.toBeInstanceOf(OpenAI.BadRequestError);
    h.fake.enqueue(
      { status: 429, retryAfter: '0' },
      { status: 429, retryAfter: '0' },
      { status: 429, retryAfter: '0' },
    );
    await expect(sdk.chat.completions.create(det('err'))).rejects.toBeInstanceOf(OpenAI.RateLimitError);
    const ok = await withStatus(sdk.chat.completions.create(det('err')));
    expect(ok.cache).toBe('MISS');
  });

  it('caches embeddings', async () => {
    const a = await withStatus(sdk.embeddings.create({ model: 'embed', input: 'vector' }));
    const b = await withStatus(sdk.embeddings.create({ model: 'embed', input: 'vector' }));
    expect([a.cache, b.cache]).toEqual(['MISS', 'HIT']);
    expect(b.data.data[0].embedding).toEqual(a.data.data[0].embedding);
  });

  it('replays a cached stream as real SSE frames the SDK reads', async () => {
    const read = async () => {
      const { data, response } = await sdk.chat.completions
        .create({ ...det('stream'), stream: true })
        .withResponse();
      let text = '';
      for await (const chunk of data) text += chunk.choices[0]?.delta.content ?? '';
      return {
        text,
        cache: response.headers.get('x-cache-status'),
        type: response.headers.get('content-type'),
      };
    };
    const first = await read();
    const second = await read();
    expect(first).toMatchObject({ text: h.fake.behaviour.text, cache: 'MISS' });
    expect(second).toMatchObject({ text: h.fake.behaviour.text, cache: 'HIT' });
    expect(second.type).toMatch(/^text\/event-stream/);
    expect(h.fake.received).toBe(1);
  });

  it('never caches a partial stream', async () => {
    h.fake.enqueue({ cutAfterChunks: 1 });
    const first = await sdk.chat.completions.create({ ...det('partial'), stream: true });
    await expect(
      (async () => {
        for await (const _ of first) void _;
      })(),
    ).rejects.toBeInstanceOf(OpenAI.APIError);
    const { response } = await sdk.chat.completions
      .create({ ...det('partial'), stream: true })
      .withResponse();
    expect(response.headers.get('x-cache-status')).toBe('MISS');
    await response.text();
  });

  it('a stream and a JSON request do not share an entry', async () => {
    await sdk.chat.completions.create(det('kinds'));
    const { response } = await sdk.chat.completions.create({ ...det('kinds'), stream: true }).withResponse();
    expect(response.headers.get('x-cache-status')).toBe('MISS');
    await response.text();
  });
});

describe('gateway cache version and TTL 0', () => {
  it('a new cache version misses entries of the old one (operator purge)', async () => {
    const h1 = await GatewayHarness.start();
    try {
      await h1.client().chat.completions.create(det('versioned'));
      const h2 = await GatewayHarness.start({
        store: h1.store,
        fake: h1.fake,
        config: { cache: { version: '2' } },
      });
      const again = await withStatus(h2.client().chat.completions.create(det('versioned')));
      expect(again.cache).toBe('MISS');
      const same = await withStatus(h1.client().chat.completions.create(det('versioned')));
      expect(same.cache).toBe('HIT');
      await h2.gateway.app.close();
    } finally {
      await h1.stop();
    }
  });

  it('ttlSeconds 0 disables the cache', async () => {
    const h = await GatewayHarness.start({ config: { cache: { ttlSeconds: 0 } } });
    try {
      await h.client().chat.completions.create(det('off'));
      const second = await withStatus(h.client().chat.completions.create(det('off')));
      expect(second.cache).toBe('BYPASS');
      expect(h.fake.received).toBe(2);
    } finally {
      await h.stop();
    }
  });
});

describe('gateway identical concurrent misses', () => {
  it('share one upstream call', async () => {
    const h = await GatewayHarness.start();
    try {
      h.fake.enqueue({ delayMs: 200 });
      const results = await Promise.all(
        Array.from({ length: 3 }, () => withStatus(h.client().chat.completions.create(det('together')))),
      );
      expect(h.fake.received).toBe(1);
      expect(results.map((r) => r.cache).sort()).toEqual(['HIT', 'HIT', 'MISS']);
      expect(new Set(results.map((r) => r.data.id)).size).toBe(1);
    } finally {
      await h.stop();
    }
  });

  it('do not share a failed call: the others make their own', async () => {
    const h = await GatewayHarness.start({ config: { upstream: { maxRetries: 0 } } });
    try {
      h.fake.enqueue({ delayMs: 200, status: 400 });
      const results = await Promise.allSettled(
        Array.from({ length: 2 }, () => h.client().chat.completions.create(det('fails once'))),
      );
      expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
      expect(h.fake.received).toBe(2);
    } finally {
      await h.stop();
    }
  });
});

describe('cache entry size', () => {
  it('does not cache an answer larger than one cache entry may be, JSON or stream', async () => {
    const h = await GatewayHarness.start();
    try {
      const big = 'y'.repeat(1_200_000);
      const body = chatBody('big answer', { temperature: 0 });
      h.fake.enqueue({ text: big }, { text: big });
      for (let i = 0; i < 2; i++) {
        const { response } = await h.client().chat.completions.create(body).withResponse();
        expect(response.headers.get('x-cache-status')).toBe('MISS');
      }
      h.fake.enqueue({ text: big, chunks: 4 }, { text: big, chunks: 4 });
      for (let i = 0; i < 2; i++) {
        const stream = await h.client().chat.completions.create({ ...body, stream: true });
        let text = '';
        for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
        expect(text).toBe(big);
      }
      // Every call went upstream: nothing that large was stored.
      expect(h.fake.received).toBe(4);
    } finally {
      await h.stop();
    }
  });
});
