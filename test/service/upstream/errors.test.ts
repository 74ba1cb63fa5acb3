import { GatewayError } from '../../../service/errors';
import {
  isCallerAbort,
  mapUpstreamError,
  parseUpstreamError,
  upstreamStatusError,
} from '../../../service/upstream/errors';
import { SecretUnavailableError } from '../../../runtime/secrets';

const OPENAI_429 = JSON.stringify({
  error: {
    message: 'Rate limit reached for gpt-4o-mini in organization org-x on requests per min (RPM): Limit 3.',
    type: 'requests',
    param: null,
    code: 'rate_limit_exceeded',
  },
});

describe('parseUpstreamError', () => {
  it("reads the error object of OpenAI's body", () => {
    expect(parseUpstreamError(OPENAI_429)).toEqual({
      message: 'Rate limit reached for gpt-4o-mini in organization org-x on requests per min (RPM): Limit 3.',
      type: 'requests',
      param: null,
      code: 'rate_limit_exceeded',
    });
  });

  it('keeps only string fields (null for code and param), so nothing else reaches the caller', () => {
    expect(parseUpstreamError('{"error":{"message":"m","code":7,"param":{"x":1},"type":null}}')).toEqual({
      message: 'm',
    });
    expect(parseUpstreamError('{"error":[]}')).toBeUndefined();
  });

  it('reads an error object with only some of the fields', () => {
    expect(parseUpstreamError('{"error":{"message":"m"}}')).toEqual({ message: 'm' });
  });

  it.each([
    ['an HTML error page', '<html><body>502 Bad Gateway</body></html>'],
    ['an empty body', ''],
    ['truncated JSON', '{"error":{"message":"m"'],
  ])('gives undefined for %s, which is not JSON', (_what, text) => {
    expect(parseUpstreamError(text)).toBeUndefined();
  });

  it.each([
    ['an object without error', '{"detail":"nope"}'],
    ['an empty object', '{}'],
    ['JSON null', 'null'],
    ['a JSON string', '"error"'],
    ['a JSON number', '42'],
  ])('gives undefined for %s', (_what, text) => {
    expect(parseUpstreamError(text)).toBeUndefined();
  });

  it.each([
    ['a string', '{"error":"Internal error"}'],
    ['null', '{"error":null}'],
    ['a number', '{"error":500}'],
    ['a boolean', '{"error":true}'],
  ])('gives undefined when error is %s rather than an object', (_what, text) => {
    expect(parseUpstreamError(text)).toBeUndefined();
  });
});

describe('upstreamStatusError', () => {
  it("keeps the upstream status and OpenAI's message, type, code and param", () => {
    const e = upstreamStatusError(
      400,
      JSON.stringify({
        error: {
          message: "Invalid value for 'temperature'.",
          type: 'invalid_request_error',
          param: 'temperature',
          code: 'invalid_value',
        },
      }),
    );
    expect(e).toBeInstanceOf(GatewayError);
    expect(e.status).toBe(400);
    expect(e.toBody()).toEqual({
      error: {
        message: "Invalid value for 'temperature'.",
        type: 'invalid_request_error',
        param: 'temperature',
        code: 'invalid_value',
      },
    });
    expect(e.headers).toEqual({});
  });

  it("keeps a 429's type and code", () => {
    const e = upstreamStatusError(429, OPENAI_429);
    expect(e.status).toBe(429);
    expect(e.type).toBe('requests');
    expect(e.code).toBe('rate_limit_exceeded');
    expect(e.param).toBeNull();
  });

  it('defaults a missing type to invalid_request_error and a missing code and param to null', () => {
    const e = upstreamStatusError(422, '{"error":{"message":"Unprocessable."}}');
    expect(e.status).toBe(422);
    expect(e.toBody()).toEqual({
      error: { message: 'Unprocessable.', type: 'invalid_request_error', param: null, code: null },
    });
  });

  it.each([
    ['a non-JSON body', 500, 'upstream connect error'],
    ['JSON without error', 503, '{"status":"unavailable"}'],
    ['an error that is not an object', 500, '{"error":"boom"}'],
    ['an error without a message', 500, '{"error":{"type":"server_error"}}'],
    ['an error with an empty message', 500, '{"error":{"message":"","type":"server_error"}}'],
  ])('falls back to a 502 naming the status for %s', (_what, status, text) => {
    const e = upstreamStatusError(status, text);
    expect(e.status).toBe(502);
    expect(e.toBody()).toEqual({
      error: {
        message: `The upstream model API answered ${status}.`,
        type: 'server_error',
        param: null,
        code: 'upstream_error',
      },
    });
  });
});

describe('mapUpstreamError', () => {
  it('turns the secrets module’s SecretUnavailableError into a 503 with retry-after 5', () => {
    const e = mapUpstreamError(new SecretUnavailableError('arn:x is empty'));
    expect(e).toBeInstanceOf(GatewayError);
    const g = e as GatewayError;
    expect(g.status).toBe(503);
    expect(g.headers).toEqual({ 'retry-after': '5' });
    expect(g.toBody()).toEqual({
      error: {
        message: 'The gateway cannot read its upstream credentials yet; try again shortly.',
        type: 'server_error',
        param: null,
        code: 'service_unavailable',
      },
    });
  });

  it('matches by name: any Error named SecretUnavailableError becomes the 503', () => {
    const err = new Error('could not read secret');
    err.name = 'SecretUnavailableError';
    const e = mapUpstreamError(err) as GatewayError;
    expect(e).toBeInstanceOf(GatewayError);
    expect(e.status).toBe(503);
    expect(e.headers).toEqual({ 'retry-after': '5' });
  });

  it('never puts the secret error’s own message into the answer', () => {
    const e = mapUpstreamError(
      new SecretUnavailableError('could not read secret arn:aws:secret'),
    ) as GatewayError;
    expect(JSON.stringify(e.toBody())).not.toContain('arn:aws:secret');
  });

  it('passes other errors through as the same object', () => {
    const plain = new Error('boom');
    const typeError = new TypeError('x is undefined');
    const gateway = new GatewayError(429, { message: 'm', type: 'requests' });
    expect(mapUpstreamError(plain)).toBe(plain);
    expect(mapUpstreamError(typeError)).toBe(typeError);
    expect(mapUpstreamError(gateway)).toBe(gateway);
  });

  it('passes through a non-Error that merely has the name', () => {
    const lookalike = { name: 'SecretUnavailableError', message: 'm' };
    expect(mapUpstreamError(lookalike)).toBe(lookalike);
  });

  it.each([['a string'], [undefined], [null], [42]])('passes through the thrown value %p', (value) => {
    expect(mapUpstreamError(value)).toBe(value);
  });
});

describe('isCallerAbort', () => {
  it('is true for an Error named AbortError', () => {
    const err = new Error('This operation was aborted');
    err.name = 'AbortError';
    expect(isCallerAbort(err)).toBe(true);
  });

  it("is true for undici's UND_ERR_ABORTED code", () => {
    const err = Object.assign(new Error('Request aborted'), { code: 'UND_ERR_ABORTED' });
    expect(isCallerAbort(err)).toBe(true);
  });

  it.each([
    ['a plain Error', new Error('boom')],
    ['a timeout', Object.assign(new Error('timeout'), { name: 'TimeoutError' })],
    ['another undici code', Object.assign(new Error('socket'), { code: 'UND_ERR_SOCKET' })],
    ['a GatewayError', new GatewayError(499, { message: 'closed', type: 'invalid_request_error' })],
  ])('is false for %s', (_what, err) => {
    expect(isCallerAbort(err)).toBe(false);
  });

  it.each([
    // A signal's reason is a DOMException, which is not `instanceof Error` in every realm (jest's).
    ['an object named AbortError', { name: 'AbortError' }],
    ['an object with the undici code', { code: 'UND_ERR_ABORTED' }],
    ['an aborted signal reason', AbortSignal.abort().reason],
  ])('is true for %s, whatever its realm', (_what, value) => {
    expect(isCallerAbort(value)).toBe(true);
  });

  it.each([
    ['a string', 'AbortError'],
    ['undefined', undefined],
    ['null', null],
  ])('is false for %s', (_what, value) => {
    expect(isCallerAbort(value)).toBe(false);
  });
});
