import { createHash } from 'node:crypto';
import { canonicalJson, cacheKey, type CacheKeyScope } from '../../service/cache-key';

const keyOf = ({ body, ...scope }: CacheKeyScope & { body: unknown }) => cacheKey(scope, canonicalJson(body));
import { extractUsage } from '../../service/metering';
import { GatewayMetrics, roundSignificant } from '../../service/metrics';
import { formatDuration } from '../../service/rate-limit-headers';
import { loadConfig, loadSettings, SettingsError } from '../../service/settings';
import { SseRelay } from '../../service/streaming';
import { parseRetryAfterMs } from '../../service/upstream';
import { createAuthenticator, mintKey } from '../../service/auth';
import { testConfigDocument } from '../support/gateway-harness';
import { parseGatewayConfig } from '../../runtime/gateway-config';
import { join } from 'node:path';

const frame = (o: unknown) => `data: ${JSON.stringify(o)}\n\n`;

describe('SseRelay', () => {
  const usage = { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 };
  const content = { id: 'c', choices: [{ index: 0, delta: { content: 'hé' } }], usage: null };
  const usageChunk = { id: 'c', choices: [], usage };

  it('reassembles frames split anywhere, even inside a UTF-8 character', () => {
    const relay = new SseRelay({ callerWantsUsage: true, capture: true });
    const bytes = Buffer.from(frame(content) + frame(usageChunk) + 'data: [DONE]\n\n');
    let out = '';
    for (let i = 0; i < bytes.length; i += 7) out += relay.push(bytes.subarray(i, i + 7));
    expect(out).toBe(bytes.toString());
    expect(relay.usage).toEqual(usage);
    expect(relay.done).toBe(true);
    expect(relay.forwarded).toBe(out);
  });

  it('drops the usage-only chunk and the usage:null members when the caller did not ask', () => {
    const relay = new SseRelay({ callerWantsUsage: false, capture: false });
    const out = relay.push(Buffer.from(frame(content) + frame(usageChunk) + 'data: [DONE]\n\n'));
    expect(out).toBe(frame({ id: 'c', choices: content.choices }) + 'data: [DONE]\n\n');
    expect(relay.usage).toEqual(usage);
  });

  it('keeps an incomplete frame until its end arrives', () => {
    const relay = new SseRelay({ callerWantsUsage: true, capture: false });
    expect(relay.push(Buffer.from('data: {"a":1}\n'))).toBe('');
    expect(relay.push(Buffer.from('\n'))).toBe('data: {"a":1}\n\n');
    expect(relay.done).toBe(false);
  });
});

describe('cache keys', () => {
  it('are independent of member order and depend on client, version, endpoint and stream flag', () => {
    const base = {
      version: '1',
      clientId: 'a',
      endpoint: 'chat' as const,
      stream: false,
      body: { a: 1, b: [1, { y: 2, x: 1 }] },
    };
    const k = keyOf(base);
    expect(k).toMatch(/^cache:[0-9a-f]{64}$/);
    expect(keyOf({ ...base, body: { b: [1, { x: 1, y: 2 }], a: 1 } })).toBe(k);
    for (const change of [
      { version: '2' },
      { clientId: 'b' },
      { endpoint: 'embeddings' as const },
      { stream: true },
    ]) {
      expect(keyOf({ ...base, ...change })).not.toBe(k);
    }
    expect(canonicalJson({ b: undefined, a: [undefined, 'x'] })).toBe('{"a":[null,"x"]}');
  });

  it('sort members by UTF-16 code units at every size, as JSON key order for Array.prototype.sort', () => {
    for (const size of [2, 5, 16, 17, 40]) {
      const keys = Array.from({ length: size }, (_, i) => `k${(i * 7919) % 97}${i % 3 ? 'é' : 'Z'}${i}`);
      const body = Object.fromEntries(keys.map((k, i) => [k, i]));
      const sorted = [...keys].sort();
      expect(Object.keys(JSON.parse(canonicalJson(body)) as object)).toEqual(sorted);
      expect(canonicalJson(body)).toBe(JSON.stringify(Object.fromEntries(sorted.map((k) => [k, body[k]]))));
    }
  });

  it('hash the canonical JSON the pipeline sends upstream, and stay the keys earlier releases wrote', () => {
    const base = { version: '1', clientId: 'a', endpoint: 'chat' as const, stream: false };
    const body = { model: 'm', messages: [{ role: 'user', content: 'hi' }], temperature: 0 };
    const canonical = canonicalJson(body);
    expect(JSON.parse(canonical)).toEqual(body);
    expect(keyOf({ ...base, body })).toBe(
      'cache:' + createHash('sha256').update('1\0a\0chat\0j\0').update(canonical).digest('hex'),
    );
  });
});

describe('usage extraction', () => {
  it('reads the last usage object without parsing the body', () => {
    const body = JSON.stringify({
      data: [{ embedding: 'AAAA' }],
      usage: { prompt_tokens: 5, total_tokens: 5, prompt_tokens_details: { cached_tokens: 2 } },
    });
    expect(extractUsage(body)).toEqual({
      prompt_tokens: 5,
      total_tokens: 5,
      prompt_tokens_details: { cached_tokens: 2 },
    });
    expect(extractUsage('{"id":"x"}')).toBeUndefined();
    expect(extractUsage('{"usage":{"prompt_tokens":')).toBeUndefined();
  });
});

describe('metrics', () => {
  it('rounds to two significant digits and bounds distinct values to 100 per line', () => {
    expect([
      roundSignificant(0.04),
      roundSignificant(0.46),
      roundSignificant(3.33),
      roundSignificant(1234),
    ]).toEqual([0, 0.5, 3.3, 1200]);
    const lines: string[] = [];
    const m = new GatewayMetrics({ stage: 's', write: (l) => lines.push(l), now: () => 1000 });
    for (let i = 1; i <= 5000; i++) {
      m.record({
        status: 200,
        latencyMs: i * 1.7,
        promptTokens: 1,
        completionTokens: 2,
        costNanos: 1500,
        budgetExceeded: false,
        upstream429: 0,
        upstreamErrors: 0,
      });
    }
    m.flush(2_000_000_000);
    expect(lines).toHaveLength(1);
    const emf = JSON.parse(lines[0]);
    expect(emf._aws).toMatchObject({
      Timestamp: 1000,
      CloudWatchMetrics: [{ Namespace: 'OpenAIBlueprint', Dimensions: [['Stage']] }],
    });
    expect(emf.Latency.Values.length).toBeLessThanOrEqual(100);
    expect(emf.Latency.Counts.reduce((a: number, b: number) => a + b, 0)).toBe(5000);
    expect(emf.Latency).toMatchObject({ Count: 5000, Min: 1.7, Max: 8500 });
    expect(emf).toMatchObject({
      Requests: 5000,
      PromptTokens: 5000,
      CompletionTokens: 10000,
      MonthToDateSpendUsd: 2,
    });
    expect(emf.CostUsd).toBeCloseTo(0.0075, 9);
    lines.length = 0;
    m.flush();
    expect(lines).toHaveLength(0);
  });
});

describe('small helpers', () => {
  it('formats reset durations like OpenAI', () => {
    expect([
      formatDuration(20),
      formatDuration(1000),
      formatDuration(360_000),
      formatDuration(3_723_000),
    ]).toEqual(['20ms', '1s', '6m0s', '1h2m3s']);
  });

  it('parses retry-after-ms, seconds and HTTP dates', () => {
    expect(parseRetryAfterMs({ 'retry-after-ms': '250' })).toBe(250);
    expect(parseRetryAfterMs({ 'retry-after': '2' })).toBe(2000);
    // An HTTP date counts from the clock, across a year end; one in the past means now.
    const clock = () => Date.parse('2026-12-31T23:59:30.000Z');
    expect(parseRetryAfterMs({ 'retry-after': 'Fri, 01 Jan 2027 00:00:30 GMT' }, clock)).toBe(60_000);
    expect(parseRetryAfterMs({ 'retry-after': 'Thu, 31 Dec 2026 23:00:00 GMT' }, clock)).toBe(0);
    expect(parseRetryAfterMs({})).toBeUndefined();
  });

  it('authenticates minted keys by hash only', () => {
    const { key, keySha256 } = mintKey();
    expect(key).toMatch(/^sk-gw-[A-Za-z0-9_-]{43}$/);
    const config = parseGatewayConfig(testConfigDocument());
    const auth = createAuthenticator([...config.clients, { ...config.clients[0], id: 'minted', keySha256 }]);
    expect(auth(`Bearer ${key}`)?.id).toBe('minted');
    expect(auth(`bearer ${key}`)?.id).toBe('minted');
    expect(auth(key)).toBeUndefined();
    expect(auth(`Bearer ${key}x`)).toBeUndefined();
    expect(auth(undefined)).toBeUndefined();
  });
});

describe('settings', () => {
  const example = join(__dirname, '..', '..', 'service', 'gateway.example.json');

  it('loads the example config and applies defaults', () => {
    const s = loadSettings({ OPENAI_API_KEY: 'k', GATEWAY_CONFIG: example });
    expect(s).toMatchObject({
      port: 8080,
      host: '0.0.0.0',
      openaiBaseUrl: 'https://api.openai.com/v1',
      keepAliveTimeoutMs: 125_000,
    });
    expect(s.config.stage).toBe('local');
  });

  it.each([
    [{ GATEWAY_CONFIG: 'x' }, /OPENAI_API_KEY/],
    [{ OPENAI_API_KEY: 'k' }, /GATEWAY_CONFIG/],
    [{ OPENAI_API_KEY: 'k', GATEWAY_CONFIG: '/nonexistent.json' }, /cannot read/],
    [{ OPENAI_API_KEY: 'k', GATEWAY_CONFIG_JSON: '{' }, /not valid JSON/],
    [{ OPENAI_API_KEY: 'k', GATEWAY_CONFIG_JSON: '{}' }, /models/],
    [{ OPENAI_API_KEY: 'k', GATEWAY_CONFIG: example, PORT: 'abc' }, /PORT/],
    [{ OPENAI_API_KEY: 'k', GATEWAY_CONFIG: example, REDIS_URL: 'http://x' }, /REDIS_URL/],
  ])('rejects %j with a message naming what to fix', (env, message) => {
    expect(() => loadSettings(env)).toThrow(SettingsError);
    expect(() => loadSettings(env)).toThrow(message);
  });

  it('prefers GATEWAY_CONFIG_JSON over the path', () => {
    expect(loadConfig('/nonexistent.json', JSON.stringify(testConfigDocument({ stage: 'json' }))).stage).toBe(
      'json',
    );
  });
});
