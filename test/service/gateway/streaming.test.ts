import OpenAI from 'openai';
import { chatBody, GatewayHarness } from '../../support/gateway-harness';

async function collect(stream: AsyncIterable<OpenAI.Chat.Completions.ChatCompletionChunk>) {
  let text = '';
  const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
  for await (const chunk of stream) {
    chunks.push(chunk);
    text += chunk.choices[0]?.delta.content ?? '';
  }
  return { text, chunks };
}

/** Reads a raw SSE response to the end. */
async function readSse(res: Response): Promise<string> {
  return await res.text();
}

describe('gateway streaming (SSE)', () => {
  let h: GatewayHarness;
  let sdk: OpenAI;

  beforeAll(async () => {
    h = await GatewayHarness.start({ gateway: { sseKeepAliveMs: 100 } });
    sdk = h.client();
  });
  afterEach(() => h.fake.reset());
  afterAll(() => h.stop());

  it('streams the completion, asks upstream for usage, and drops the usage chunk the caller did not ask for', async () => {
    const { text, chunks } = await collect(
      await sdk.chat.completions.create({ ...chatBody(), stream: true }),
    );
    expect(text).toBe(h.fake.behaviour.text);
    expect(h.fake.requests[0].body.stream_options).toEqual({ include_usage: true });
    expect(chunks.every((c) => c.choices.length > 0)).toBe(true);
    expect(chunks.every((c) => !('usage' in c))).toBe(true);
  });

  it('forwards the usage chunk to a caller who asked for it', async () => {
    const { chunks } = await collect(
      await sdk.chat.completions.create({
        ...chatBody(),
        stream: true,
        stream_options: { include_usage: true },
      }),
    );
    const last = chunks[chunks.length - 1];
    expect(last.choices).toEqual([]);
    expect(last.usage?.total_tokens).toBeGreaterThan(0);
  });

  it('sends real SSE frames ending in [DONE]', async () => {
    const res = await h.post('/chat/completions', JSON.stringify({ ...chatBody(), stream: true }));
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(res.headers.get('x-ratelimit-limit-requests')).toBe('1000');
    const body = await readSse(res);
    expect(body.endsWith('data: [DONE]\n\n')).toBe(true);
    for (const frame of body.split('\n\n').filter(Boolean)) expect(frame).toMatch(/^data: /);
    expect(body).not.toContain('"usage"');
  });

  it('meters the stream from the upstream usage chunk', async () => {
    h.fake.enqueue({ usage: { prompt_tokens: 11, completion_tokens: 7 } });
    h.lines.length = 0;
    await collect(await sdk.chat.completions.create({ ...chatBody(), stream: true }));
    await h.fake.waitFor(() => h.lines.some((l) => l.includes('request completed')));
    const line = h.logs().find((l) => l.msg === 'request completed');
    expect(line).toMatchObject({ promptTokens: 11, completionTokens: 7, stream: 'complete' });
  });

  it('ends a stream cut by upstream with an error event the SDK raises', async () => {
    h.fake.enqueue({ cutAfterChunks: 2, chunks: 5 });
    const stream = await sdk.chat.completions.create({ ...chatBody(), stream: true });
    let received = '';
    const err = await (async () => {
      for await (const chunk of stream) received += chunk.choices[0]?.delta.content ?? '';
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect((err as Error).message).toMatch(/ended the stream before it was complete/);
    expect(received.length).toBeGreaterThan(0);
    expect(received).not.toBe(h.fake.behaviour.text);
  });

  it('aborts the upstream request when the caller goes away mid-stream', async () => {
    h.fake.enqueue({ chunks: 50, chunkDelayMs: 20 });
    const controller = new AbortController();
    const stream = await sdk.chat.completions.create(
      { ...chatBody(), stream: true },
      { signal: controller.signal },
    );
    let n = 0;
    // The SDK ends the iteration quietly when its own signal aborts it.
    for await (const _chunk of stream) if (++n === 3) controller.abort();
    expect(n).toBeLessThan(50);
    await h.fake.waitFor(() => h.fake.aborted === 1);
  });

  it('aborts the upstream request when the caller goes away before upstream answers', async () => {
    h.fake.enqueue({ hang: true });
    const controller = new AbortController();
    const pending = sdk.chat.completions
      .create({ ...chatBody(), stream: false }, { signal: controller.signal })
      .catch((e: unknown) => e);
    await h.fake.waitFor(() => h.fake.received === 1);
    controller.abort();
    expect(await pending).toBeInstanceOf(OpenAI.APIUserAbortError);
    await h.fake.waitFor(() => h.fake.aborted === 1);
  });

  it('sends SSE keep-alive comments while upstream is slow to answer, then the stream', async () => {
    h.fake.enqueue({ delayMs: 350 });
    const res = await h.post('/chat/completions', JSON.stringify({ ...chatBody(), stream: true }));
    const body = await readSse(res);
    expect(body.startsWith(': keep-alive\n\n')).toBe(true);
    expect(body.endsWith('data: [DONE]\n\n')).toBe(true);
  });

  it('reports an upstream failure after keep-alives as an error event', async () => {
    h.fake.enqueue({ delayMs: 250, status: 500 }, { status: 500 }, { status: 500 });
    const res = await h.post('/chat/completions', JSON.stringify({ ...chatBody(), stream: true }));
    expect(res.status).toBe(200);
    const body = await readSse(res);
    expect(body).toContain(': keep-alive');
    expect(body).toMatch(
      /data: \{"error":\{"message":"[^"]+","type":"server_error","param":null,"code":"upstream_error"\}\}\n\n$/,
    );
  });

  it('passes an upstream 400 that arrives after keep-alives on as the error event', async () => {
    const error = {
      message: 'Invalid value for temperature',
      type: 'invalid_request_error',
      param: null,
      code: 'bad_temp',
    };
    h.fake.enqueue({ delayMs: 250, status: 400, body: { error } });
    const body = await readSse(
      await h.post('/chat/completions', JSON.stringify({ ...chatBody(), stream: true })),
    );
    expect(body).toContain(': keep-alive');
    expect(body.endsWith(`data: ${JSON.stringify({ error })}\n\n`)).toBe(true);
  });

  it('answers a stream refused before any byte with a normal HTTP error', async () => {
    h.fake.enqueue({ status: 503 }, { status: 503 }, { status: 503 });
    const err = await sdk.chat.completions.create({ ...chatBody(), stream: true }).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 502 });
    expect(h.fake.received).toBe(3);
  });

  it('streams n > 1 choices', async () => {
    const { chunks } = await collect(
      await sdk.chat.completions.create({ ...chatBody(), n: 2, stream: true }),
    );
    expect(new Set(chunks.map((c) => c.choices[0].index))).toEqual(new Set([0, 1]));
  });
});
