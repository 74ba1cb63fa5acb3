/**
 * Callers that hold resources without doing their part, on both stores: one client's calls filling the
 * upstream pool, a body trickled a byte at a time, and a stream the caller stops reading. Each is
 * bounded, and the upstream connection is given back.
 */
import { createHash } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { costNanos } from '../../../runtime/pricing';
import { chatBody, GatewayHarness, KEYS } from '../../support/gateway-harness';
import { eventually } from '../../support/eventually';
import { RedisServer } from '../../support/redis-server';

const MINI = { inputUsdPer1M: 0.15, outputUsdPer1M: 0.6 };
const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const client = (id: string, key: string, extra: Record<string, unknown> = {}) => ({
  id,
  keySha256: sha(key),
  rpm: 1000,
  tpm: 1_000_000,
  monthlyBudgetUsd: 1,
  ...extra,
});

function open(url: string): Promise<Socket> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => resolve(socket));
    socket.on('error', reject);
  });
}

let redis: RedisServer;
let stages = 0;
beforeAll(async () => {
  redis = await RedisServer.start();
});
afterAll(() => redis?.stop());

describe.each([
  ['the memory store', () => ({})],
  ['the Redis store', () => ({ redisUrl: redis.url })],
])('fairness on %s', (_name, storeOptions) => {
  let h: GatewayHarness;
  beforeAll(async () => {
    h = await GatewayHarness.start({
      ...storeOptions(),
      config: {
        // Tests share the redis-server; counters are per stage.
        stage: `fair-${process.pid}-${++stages}`,
        limits: { maxBodyBytes: 65_536 },
        clients: [client('app', KEYS.app, { maxConcurrentCalls: 2 }), client('other', KEYS.other)],
      },
      gateway: { requestTimeoutMs: 500, writeStallTimeoutMs: 300 },
    });
  });
  afterAll(() => h.stop());
  afterEach(() => h.fake.reset());

  it('caps the calls one client has in flight, so another client is not kept waiting behind them', async () => {
    const before = (await h.store.monthToDateSpendNanos()) ?? 0;
    h.fake.reset({ delayMs: 300 });
    const calls = [1, 2, 3].map(() => h.post('/chat/completions', JSON.stringify(chatBody())));
    await h.fake.waitFor(() => h.fake.received === 2);
    const third = await calls[2];
    expect(third.status).toBe(429);
    expect(third.headers.get('retry-after')).toBe('1');
    expect(((await third.json()) as { error: { code: string } }).error.code).toBe(
      'concurrency_limit_exceeded',
    );
    // Another client is served at once while app's two calls are still upstream.
    const other = await h.client(KEYS.other).chat.completions.create(chatBody());
    expect(other.choices).toHaveLength(1);
    expect((await calls[0]).status).toBe(200);
    expect((await calls[1]).status).toBe(200);
    // The refused call reserved nothing: spend is what the three answered calls were billed.
    await h.fake.waitFor(() => h.fake.billed.length === 3);
    const billed = h.fake.billed.reduce((sum, b) => sum + costNanos(MINI, b.usage), 0);
    await eventually(async () => (await h.store.monthToDateSpendNanos()) === before + billed);
    // Slots come back when calls end.
    expect((await h.post('/chat/completions', JSON.stringify(chatBody()))).status).toBe(200);
  });

  it('answers a body trickled a byte at a time with 408 in OpenAI shape once the request time is up', async () => {
    const socket = await open(h.url);
    const body = JSON.stringify(chatBody());
    socket.write(
      `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${KEYS.app}\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`,
    );
    let answer = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (answer += d));
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    const trickle = setInterval(() => {
      if (!socket.destroyed) socket.write(' ');
    }, 100);
    await closed;
    clearInterval(trickle);
    expect(answer.startsWith('HTTP/1.1 408 ')).toBe(true);
    expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))).toEqual({
      error: {
        message: 'The request took too long to arrive.',
        type: 'invalid_request_error',
        param: null,
        code: 'request_timeout',
      },
    });
    expect(h.fake.received).toBe(0);
  });

  it('does not bound a stream that takes longer than the request time: only receiving the request is', async () => {
    h.fake.enqueue({ chunks: 10, chunkDelayMs: 100 });
    const stream = await h.client().chat.completions.create({ ...chatBody(), stream: true });
    let chunks = 0;
    for await (const _chunk of stream) chunks++;
    expect(chunks).toBeGreaterThanOrEqual(10);
  });

  it('drops a caller that stops reading a stream, and with it the upstream request', async () => {
    // Megabytes of stream, more than the socket buffers between the gateway and a caller that reads nothing.
    h.fake.enqueue({ text: 'x'.repeat(16 * 1024 * 1024), chunks: 512 });
    const socket = await open(h.url);
    socket.pause();
    const body = JSON.stringify({ ...chatBody(), stream: true });
    socket.write(
      `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${KEYS.app}\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
    );
    // The gateway stops waiting for it, which closes its response and aborts the upstream body.
    await h.fake.waitFor(() => h.lines.some((l) => l.includes('"caller_aborted"')), 10_000);
    socket.destroy();
  });
});
