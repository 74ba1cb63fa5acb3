/**
 * Callers that hold resources without doing their part: a body trickled a byte at a time, and a stream
 * the caller stops reading. Both are bounded, and the upstream connection is given back.
 */
import { connect, type Socket } from 'node:net';
import { chatBody, GatewayHarness, KEYS } from '../../support/gateway-harness';

function open(url: string): Promise<Socket> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => resolve(socket));
    socket.on('error', reject);
  });
}

describe('slow callers', () => {
  let h: GatewayHarness;
  beforeAll(async () => {
    h = await GatewayHarness.start({
      config: { limits: { maxBodyBytes: 65_536 } },
      gateway: { requestTimeoutMs: 500, writeStallTimeoutMs: 300 },
    });
  });
  afterAll(() => h.stop());
  afterEach(() => h.fake.reset());

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
