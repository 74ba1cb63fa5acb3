import type { ForwardInput } from '../../../service/pipeline/forward';
import { relayJson } from '../../../service/pipeline/relay-json';
import { errorBody } from '../../support/fake-openai/wire';
import { chatBody } from '../../support/gateway-harness';
import { MemoryResponse } from '../../support/memory-response';
import { startPipeline, type PipelineHarness } from '../../support/pipeline-harness';

const HEADERS = { 'x-ratelimit-limit-requests': '1000', 'x-cache-status': 'MISS' };
const CACHE_KEY = 'cache:relay-json-test';
const NOTHING = { promptTokens: 0, cachedPromptTokens: 0, completionTokens: 0, costNanos: 0 };

describe('relayJson', () => {
  let h: PipelineHarness;
  beforeAll(async () => {
    h = await startPipeline();
  });
  afterEach(() => h.fake.reset());
  afterAll(() => h.close());

  const input = (response: MemoryResponse, cacheKey?: string): ForwardInput =>
    h.forwardInput({ response, body: chatBody('Say hello', { temperature: 0 }), headers: HEADERS, cacheKey });

  it("relays a 200 as is, charges its usage and caches it as a 'J' entry", async () => {
    h.fake.enqueue({ usage: { prompt_tokens: 2000, completion_tokens: 500 } });
    const response = new MemoryResponse();
    const forwarded = await relayJson(h.deps, input(response, CACHE_KEY));

    expect(response.sent).toMatchObject({ status: 200, headers: HEADERS, contentType: 'json' });
    const body = response.sent!.body;
    expect(JSON.parse(body)).toMatchObject({ object: 'chat.completion', usage: { prompt_tokens: 2000 } });
    // gpt-4o-mini: 2000 x $0.15/1M + 500 x $0.60/1M = $0.0006
    expect(forwarded.charge.metered).toEqual({
      promptTokens: 2000,
      cachedPromptTokens: 0,
      completionTokens: 500,
      costNanos: 600_000,
    });
    expect(forwarded.charge.cacheEntry).toEqual({
      key: CACHE_KEY,
      value: 'J' + body,
      ttlSeconds: h.config.cache.ttlSeconds,
    });
    expect(forwarded.upstreamMs).toEqual(expect.any(Number));
    expect(forwarded.sharedFlight).toBeUndefined();
  });

  it('writes no cache entry for a call without a cache key', async () => {
    const response = new MemoryResponse();
    const forwarded = await relayJson(h.deps, input(response));

    expect(response.sent!.status).toBe(200);
    expect(forwarded.charge.cacheEntry).toBeUndefined();
    expect(forwarded.charge.metered.costNanos).toBeGreaterThan(0);
  });

  it('relays a non-200 with its status and body, charges nothing and does not cache it', async () => {
    const error = errorBody(
      "Invalid 'messages': empty.",
      'invalid_request_error',
      'invalid_value',
      'messages',
    );
    h.fake.enqueue({ status: 400, body: error });
    const response = new MemoryResponse();
    const forwarded = await relayJson(h.deps, input(response, CACHE_KEY));

    expect(response.sent).toEqual({
      status: 400,
      headers: HEADERS,
      contentType: 'json',
      body: JSON.stringify(error),
    });
    expect(forwarded.charge).toEqual({ metered: NOTHING });
    expect(forwarded.upstreamMs).toEqual(expect.any(Number));
  });

  it('answers an identical call in flight from the leader, as a HIT that used nothing', async () => {
    h.fake.enqueue({ delayMs: 150 });
    const leaderResponse = new MemoryResponse();
    const leader = relayJson(h.deps, input(leaderResponse, CACHE_KEY));
    await h.fake.waitFor(() => h.fake.requests.length === 1);
    const followerResponse = new MemoryResponse();
    const follower = relayJson(h.deps, input(followerResponse, CACHE_KEY));
    const [led, followed] = await Promise.all([leader, follower]);

    expect(h.fake.requests).toHaveLength(1);
    expect(followerResponse.sent).toEqual({
      status: 200,
      headers: { ...HEADERS, 'x-cache-status': 'HIT' },
      contentType: 'json',
      body: leaderResponse.sent!.body,
    });
    expect(followed).toEqual({ charge: { metered: NOTHING }, sharedFlight: true });
    expect(led.charge.cacheEntry?.key).toBe(CACHE_KEY);
  });

  it('makes its own upstream call when the leader it waited for got an error', async () => {
    h.fake.enqueue({ status: 400, delayMs: 150 });
    const leaderResponse = new MemoryResponse();
    const leader = relayJson(h.deps, input(leaderResponse, CACHE_KEY));
    await h.fake.waitFor(() => h.fake.requests.length === 1);
    const followerResponse = new MemoryResponse();
    const follower = relayJson(h.deps, input(followerResponse, CACHE_KEY));
    const [, followed] = await Promise.all([leader, follower]);

    expect(leaderResponse.sent!.status).toBe(400);
    expect(followerResponse.sent!.status).toBe(200);
    expect(followerResponse.sent!.headers['x-cache-status']).toBe('MISS');
    expect(h.fake.requests).toHaveLength(2);
    expect(followed.sharedFlight).toBeUndefined();
    expect(followed.charge.cacheEntry?.key).toBe(CACHE_KEY);
  });

  it('does not share a call without a cache key', async () => {
    h.fake.enqueue({ delayMs: 100 });
    const first = relayJson(h.deps, input(new MemoryResponse()));
    await h.fake.waitFor(() => h.fake.requests.length === 1);
    const second = relayJson(h.deps, input(new MemoryResponse()));
    await Promise.all([first, second]);

    expect(h.fake.requests).toHaveLength(2);
  });
});
