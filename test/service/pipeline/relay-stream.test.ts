import { chatCompletions } from '../../../service/endpoints/chat-completions';
import type { PreparedCall } from '../../../service/endpoints';
import type { ForwardInput, UpstreamDeps } from '../../../service/pipeline/forward';
import { relayStream } from '../../../service/pipeline/relay-stream';
import { errorBody } from '../../support/fake-openai/wire';
import { chatBody } from '../../support/gateway-harness';
import { MemoryResponse } from '../../support/memory-response';
import { eventually, startPipeline, type PipelineHarness } from '../../support/pipeline-harness';

const HEADERS = { 'x-ratelimit-limit-requests': '1000', 'x-cache-status': 'MISS' };
const KEEP_ALIVE = ': keep-alive\n\n';
const CACHE_KEY = 'cache:relay-stream-test';

/** The data frames of an SSE text, parsed (`[DONE]` left out). */
const dataFrames = (text: string): unknown[] =>
  text
    .split('\n\n')
    .filter((f) => f.startsWith('data: {'))
    .map((f) => JSON.parse(f.slice('data: '.length)) as unknown);

describe('relayStream', () => {
  let h: PipelineHarness;
  beforeAll(async () => {
    h = await startPipeline();
  });
  afterEach(() => h.fake.reset());
  afterAll(() => h.close());

  /** Upstream deps with keep-alive comments every `keepAliveMs`. */
  const depsWith = (keepAliveMs = 15_000): UpstreamDeps => ({ ...h.deps, sseKeepAliveMs: keepAliveMs });

  const input = (
    response: MemoryResponse,
    options: { cacheKey?: string; prepared?: PreparedCall } = {},
  ): ForwardInput =>
    h.forwardInput({ response, body: chatBody('Say hello', { stream: true }), headers: HEADERS, ...options });

  it('writes keep-alive comments while upstream is slow, which open the stream with the headers', async () => {
    h.fake.enqueue({ delayMs: 150 });
    const response = new MemoryResponse();
    const forwarded = await relayStream(depsWith(10), input(response, { cacheKey: CACHE_KEY }));

    expect(response.problems).toEqual([]);
    expect(response.streamHeaders).toEqual(HEADERS);
    expect(response.writes[0]).toBe(KEEP_ALIVE);
    const firstFrame = response.writes.findIndex((w) => w !== KEEP_ALIVE);
    expect(firstFrame).toBeGreaterThan(0);
    expect(response.writes.slice(firstFrame)).not.toContain(KEEP_ALIVE);
    expect(response.ended).toBe(true);
    expect(forwarded.streamOutcome).toBe('complete');
    // The comments are the gateway's own: the cached stream replays only what upstream sent.
    expect(forwarded.charge.cacheEntry!.value).toBe('S' + response.writes.slice(firstFrame).join(''));
  });

  it('drops a keep-alive the caller left behind instead of failing the process', async () => {
    h.fake.enqueue({ delayMs: 300 });
    const response = new MemoryResponse();
    response.holdWrites();
    const rejections: unknown[] = [];
    const onRejection = (reason: unknown) => rejections.push(reason);
    process.on('unhandledRejection', onRejection);
    try {
      const call = relayStream(depsWith(10), input(response));
      await eventually(() => response.writes.length >= 1);
      response.abort();
      const forwarded = await call;
      // Let any rejected keep-alive promise surface.
      await new Promise((resolve) => setImmediate(resolve));
      expect(forwarded.streamOutcome).toBe('caller_aborted');
      expect(rejections).toEqual([]);
    } finally {
      process.off('unhandledRejection', onRejection);
    }
  });

  it('sends a non-200 that arrives before the stream opened as JSON with its status', async () => {
    const error = errorBody(
      "Invalid 'messages': empty.",
      'invalid_request_error',
      'invalid_value',
      'messages',
    );
    h.fake.enqueue({ status: 400, body: error });
    const response = new MemoryResponse();
    const forwarded = await relayStream(depsWith(), input(response, { cacheKey: CACHE_KEY }));

    expect(response.sent).toEqual({
      status: 400,
      headers: HEADERS,
      contentType: 'json',
      body: JSON.stringify(error),
    });
    expect(response.streamHeaders).toBeUndefined();
    expect(forwarded.charge).toEqual({
      metered: { promptTokens: 0, cachedPromptTokens: 0, completionTokens: 0, costNanos: 0 },
    });
    expect(forwarded.streamOutcome).toBeUndefined();
    expect(forwarded.upstreamMs).toEqual(expect.any(Number));
  });

  it('ends an opened stream with an OpenAI-shaped error frame when upstream then answers non-200', async () => {
    const error = errorBody(
      "Invalid 'messages': empty.",
      'invalid_request_error',
      'invalid_value',
      'messages',
    );
    h.fake.enqueue({ status: 400, body: error, delayMs: 100 });
    const response = new MemoryResponse();
    const forwarded = await relayStream(depsWith(10), input(response, { cacheKey: CACHE_KEY }));

    expect(response.sent).toBeUndefined();
    expect(response.streamHeaders).toEqual(HEADERS);
    expect(new Set(response.writes)).toEqual(new Set([KEEP_ALIVE]));
    expect(response.ended).toBe(true);
    expect(response.endText!.endsWith('\n\n')).toBe(true);
    const [frame] = dataFrames(response.endText!) as Array<{ error: Record<string, unknown> }>;
    expect(Object.keys(frame.error).sort()).toEqual(['code', 'message', 'param', 'type']);
    expect(frame.error).toMatchObject({
      message: "Invalid 'messages': empty.",
      type: 'invalid_request_error',
      code: 'invalid_value',
      param: 'messages',
    });
    expect(forwarded.charge.cacheEntry).toBeUndefined();
    expect(forwarded.charge.metered.costNanos).toBe(0);
  });

  it('ends an opened stream with a 502 error frame when upstream fails on every attempt', async () => {
    h.fake.enqueue({ status: 500, delayMs: 60 }, { status: 500 }, { status: 500 });
    const response = new MemoryResponse();
    const forwarded = await relayStream(depsWith(10), input(response));

    expect(response.streamHeaders).toEqual(HEADERS);
    expect(dataFrames(response.endText!)).toEqual([
      {
        error: {
          message: 'The upstream model API failed with status 500 after retries.',
          type: 'server_error',
          param: null,
          code: 'upstream_error',
        },
      },
    ]);
    expect(forwarded.streamOutcome).toBe('upstream_failed');
  });

  it('ends a stream cut before [DONE] with an error frame, as upstream_failed, and does not cache it', async () => {
    h.fake.enqueue({ cutAfterChunks: 2 });
    const response = new MemoryResponse();
    const call = input(response, { cacheKey: CACHE_KEY });
    const forwarded = await relayStream(depsWith(), call);

    expect(response.problems).toEqual([]);
    expect(response.writes.join('')).not.toContain('[DONE]');
    expect(dataFrames(response.endText!)).toEqual([
      {
        error: {
          message: 'The upstream model API ended the stream before it was complete.',
          type: 'server_error',
          param: null,
          code: 'upstream_error',
        },
      },
    ]);
    expect(forwarded.streamOutcome).toBe('upstream_failed');
    expect(forwarded.charge.cacheEntry).toBeUndefined();
    // No usage arrived, and upstream may bill what it generated: the worst case is charged.
    expect(dataFrames(response.writes.join(''))).toHaveLength(3);
    expect(forwarded.charge.metered).toMatchObject({
      promptTokens: call.prepared.promptTokens,
      cachedPromptTokens: 0,
      completionTokens: call.prepared.completionTokens,
    });
  });

  it('ends a stream whose frame is over the size limit as upstream_failed, without caching it', async () => {
    h.fake.enqueue({ text: 'x'.repeat(1_200_000), chunks: 1 });
    const response = new MemoryResponse();
    const forwarded = await relayStream(depsWith(), input(response, { cacheKey: CACHE_KEY }));
    expect(forwarded.streamOutcome).toBe('upstream_failed');
    expect(forwarded.charge.cacheEntry).toBeUndefined();
    expect(dataFrames(response.endText!)).toEqual([
      expect.objectContaining({ error: expect.objectContaining({ code: 'upstream_error' }) }),
    ]);
    expect(response.writes.join('').length).toBeLessThan(1_000_000);
  });

  it("caches a complete stream as an 'S' entry of exactly what the caller received", async () => {
    const response = new MemoryResponse();
    const forwarded = await relayStream(depsWith(), input(response, { cacheKey: CACHE_KEY }));

    expect(response.ended).toBe(true);
    expect(response.endText).toBeUndefined();
    expect(response.writes.join('').endsWith('data: [DONE]\n\n')).toBe(true);
    expect(forwarded.streamOutcome).toBe('complete');
    expect(forwarded.charge.cacheEntry).toEqual({
      key: CACHE_KEY,
      value: 'S' + response.writes.join(''),
      ttlSeconds: h.config.cache.ttlSeconds,
    });
    // The caller did not ask for usage: the usage chunk was read for the charge but not relayed.
    expect(response.writes.join('')).not.toContain('"usage"');
    expect(forwarded.charge.metered.promptTokens).toBeGreaterThan(0);
    expect(forwarded.timeToFirstTokenMs).toEqual(expect.any(Number));
  });

  it('relays, but does not cache, a complete stream that carried an error event', async () => {
    const path = '/stream-with-error';
    h.fake.route('POST', `/v1${path}`, ({ res }) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: {"id":"c","choices":[{"index":0,"delta":{"content":"Hi"}}]}\n\n');
      res.write('data: {"error":{"message":"boom","type":"server_error","param":null,"code":null}}\n\n');
      res.end('data: [DONE]\n\n');
    });
    const chat = chatCompletions.prepare({
      policy: h.deps.policy,
      client: h.client(),
      body: chatBody('Say hello', { stream: true }),
    });
    const prepared = { ...chat, spec: { ...chatCompletions, upstreamPath: path } };
    const response = new MemoryResponse();
    const forwarded = await relayStream(depsWith(), input(response, { cacheKey: CACHE_KEY, prepared }));

    expect(response.writes.join('')).toContain('"message":"boom"');
    expect(forwarded.streamOutcome).toBe('complete');
    expect(forwarded.charge.cacheEntry).toBeUndefined();
  });

  it('waits for a write the caller has not taken yet, and finishes once it drains', async () => {
    h.fake.enqueue({ chunks: 3, chunkDelayMs: 5 });
    const response = new MemoryResponse();
    response.holdWrites();
    const relayed = relayStream(depsWith(), input(response));
    await eventually(() => response.pendingWrites === 1);
    expect(response.ended).toBe(false);
    response.drain();
    const forwarded = await relayed;

    expect(forwarded.streamOutcome).toBe('complete');
    expect(response.ended).toBe(true);
    expect(response.writes.join('').endsWith('data: [DONE]\n\n')).toBe(true);
  });

  it('reports caller_aborted and ends the upstream request when the caller leaves during a held write', async () => {
    h.fake.enqueue({ chunks: 10, chunkDelayMs: 20 });
    const response = new MemoryResponse();
    response.holdWrites();
    const relayed = relayStream(depsWith(), input(response, { cacheKey: CACHE_KEY }));
    await eventually(() => response.pendingWrites === 1);
    response.abort();
    const forwarded = await relayed;

    expect(forwarded.streamOutcome).toBe('caller_aborted');
    expect(forwarded.charge.cacheEntry).toBeUndefined();
    expect(response.ended).toBe(false);
    await h.fake.waitFor(() => h.fake.aborted === 1);
  });

  it('throws an upstream failure that happens before anything was sent, for the caller error', async () => {
    h.fake.enqueue({ status: 500 }, { status: 500 }, { status: 500 });
    const response = new MemoryResponse();

    await expect(relayStream(depsWith(), input(response))).rejects.toMatchObject({
      status: 502,
      code: 'upstream_error',
    });
    expect(response.started).toBe(false);
  });
});
