import { connect } from 'node:net';
import { jsonDepthExceeds, MAX_JSON_DEPTH } from '../../../service/http/protocol-errors';
import { chatBody, GatewayHarness } from '../../support/gateway-harness';

const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);

/** Sends raw bytes and resolves with everything the server answers before it closes. */
function raw(url: string, request: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(request));
    let answer = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (answer += d));
    socket.on('close', () => resolve(answer));
    socket.on('error', reject);
  });
}

const bodyOf = (answer: string) => JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4));

describe('jsonDepthExceeds', () => {
  it('counts objects and arrays, not brackets inside strings', () => {
    expect(jsonDepthExceeds(nested(3), 3)).toBe(false);
    expect(jsonDepthExceeds(nested(4), 3)).toBe(true);
    expect(jsonDepthExceeds('{"a":{"b":[1]}}', 3)).toBe(false);
    expect(jsonDepthExceeds('{"a":{"b":[{}]}}', 3)).toBe(true);
    expect(jsonDepthExceeds(JSON.stringify({ s: '[[[[[[{{{{' }), 1)).toBe(false);
    expect(jsonDepthExceeds(JSON.stringify({ s: 'quote \\" then [[[[' }), 1)).toBe(false);
  });
});

describe('protocol-level errors, in OpenAI shape', () => {
  let h: GatewayHarness;
  beforeAll(async () => {
    h = await GatewayHarness.start({ config: { limits: { maxBodyBytes: 65_536 } } });
  });
  afterAll(() => h.stop());

  it('answers 20 kB of nested JSON with 400 invalid_json_depth, not a 500, and sends nothing upstream', async () => {
    const res = await h.post('/chat/completions', `{"model":"gpt-4o-mini","messages":${nested(10_000)}}`);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      error: {
        message: `The JSON body is nested more than ${MAX_JSON_DEPTH} levels deep; flatten it.`,
        type: 'invalid_request_error',
        param: null,
        code: 'invalid_json_depth',
      },
    });
    expect(h.fake.received).toBe(0);
  });

  it(`accepts a body nested ${MAX_JSON_DEPTH} levels deep`, async () => {
    const deep = JSON.parse('{"a":'.repeat(MAX_JSON_DEPTH - 3) + '1' + '}'.repeat(MAX_JSON_DEPTH - 3));
    const res = await h.post('/chat/completions', JSON.stringify({ ...chatBody(), metadata: deep }));
    expect(res.status).toBe(200);
  });

  it('still refuses prototype pollution through __proto__ with a 400', async () => {
    const res = await h.post(
      '/chat/completions',
      '{"model":"gpt-4o-mini","__proto__":{"x":1},"messages":[]}',
    );
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { type: string } }).error.type).toBe('invalid_request_error');
  });

  it('answers headers over the limit with 431 in OpenAI shape', async () => {
    const answer = await raw(
      h.url,
      `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
    );
    expect(answer.startsWith('HTTP/1.1 431 ')).toBe(true);
    expect(bodyOf(answer)).toEqual({
      error: {
        message: 'The request headers are too large.',
        type: 'invalid_request_error',
        param: null,
        code: 'request_header_fields_too_large',
      },
    });
  });

  it('answers a request line it cannot parse with 400 in OpenAI shape', async () => {
    const answer = await raw(h.url, 'NOT A REQUEST\r\n\r\n');
    expect(answer.startsWith('HTTP/1.1 400 ')).toBe(true);
    expect(bodyOf(answer).error).toMatchObject({ type: 'invalid_request_error', code: 'bad_request' });
  });
});
