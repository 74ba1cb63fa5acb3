import {
  bodyTooLarge,
  callerClosed,
  contentFlagged,
  GatewayError,
  internalError,
  invalidApiKey,
  invalidRequest,
  modelNotAllowed,
  modelNotFound,
  notFound,
  quotaExceeded,
  rateLimited,
  tokensExceedLimit,
  unavailable,
  unparsableJson,
  unsupportedMediaType,
  upstreamFailed,
  upstreamTimeout,
} from '../../service/errors';

/** Everything a caller can observe of an error: status, body fields and headers. */
function observed(e: GatewayError) {
  return {
    status: e.status,
    message: e.message,
    type: e.type,
    code: e.code,
    param: e.param,
    headers: e.headers,
  };
}

describe('GatewayError', () => {
  it('is an Error named GatewayError carrying its message', () => {
    const e = new GatewayError(418, { message: 'short and stout', type: 'teapot_error' });
    expect(e).toBeInstanceOf(Error);
    expect(e).toBeInstanceOf(GatewayError);
    expect(e.name).toBe('GatewayError');
    expect(e.message).toBe('short and stout');
    expect(e.status).toBe(418);
  });

  it('defaults code and param to null and headers to none', () => {
    const e = new GatewayError(400, { message: 'm', type: 't' });
    expect(e.code).toBeNull();
    expect(e.param).toBeNull();
    expect(e.headers).toEqual({});
  });

  it('turns an explicitly undefined code and param into null', () => {
    const e = new GatewayError(400, { message: 'm', type: 't', code: undefined, param: undefined });
    expect(e.code).toBeNull();
    expect(e.param).toBeNull();
  });

  it('keeps the given code, param and headers', () => {
    const e = new GatewayError(429, {
      message: 'm',
      type: 't',
      code: 'c',
      param: 'p',
      headers: { 'retry-after': '3' },
    });
    expect(observed(e)).toEqual({
      status: 429,
      message: 'm',
      type: 't',
      code: 'c',
      param: 'p',
      headers: { 'retry-after': '3' },
    });
  });

  describe('toBody', () => {
    it("gives OpenAI's body shape with message, type, param and code in that order", () => {
      const e = new GatewayError(404, {
        message: 'gone',
        type: 'invalid_request_error',
        code: 'c',
        param: 'p',
      });
      expect(e.toBody()).toEqual({
        error: { message: 'gone', type: 'invalid_request_error', param: 'p', code: 'c' },
      });
      expect(JSON.stringify(e.toBody())).toBe(
        '{"error":{"message":"gone","type":"invalid_request_error","param":"p","code":"c"}}',
      );
    });

    it('writes absent param and code as JSON null, not omitted', () => {
      const e = new GatewayError(500, { message: 'oops', type: 'server_error' });
      expect(JSON.stringify(e.toBody())).toBe(
        '{"error":{"message":"oops","type":"server_error","param":null,"code":null}}',
      );
    });

    it('never puts the status or the headers into the body', () => {
      const body = rateLimited('requests', 7, 'application').toBody();
      expect(Object.keys(body)).toEqual(['error']);
      expect(Object.keys(body.error)).toEqual(['message', 'type', 'param', 'code']);
    });
  });

  describe('withHeaders', () => {
    it('adds the given headers to an error that has none', () => {
      const e = invalidRequest('bad', 'messages', 'invalid_value');
      const withRateLimit = e.withHeaders({ 'x-ratelimit-limit-requests': '60' });
      expect(withRateLimit.headers).toEqual({ 'x-ratelimit-limit-requests': '60' });
    });

    it('keeps the status, message, type, code and param', () => {
      const e = rateLimited('tokens', 4, 'gateway');
      const added = e.withHeaders({ 'x-request-id': 'r1' });
      expect(observed(added)).toEqual({
        ...observed(e),
        headers: { 'x-request-id': 'r1', 'retry-after': '4' },
      });
    });

    it("lets the error's own header win over a given one of the same name", () => {
      const e = quotaExceeded('client a', 3600);
      const added = e.withHeaders({ 'retry-after': '1', 'x-ratelimit-remaining-tokens': '0' });
      expect(added.headers).toEqual({ 'retry-after': '3600', 'x-ratelimit-remaining-tokens': '0' });
    });

    it('returns a new GatewayError and leaves the original unchanged', () => {
      const e = unavailable('down', 2);
      const added = e.withHeaders({ 'x-extra': 'yes' });
      expect(added).toBeInstanceOf(GatewayError);
      expect(added).not.toBe(e);
      expect(added.name).toBe('GatewayError');
      expect(e.headers).toEqual({ 'retry-after': '2' });
      expect(added.headers).toEqual({ 'retry-after': '2', 'x-extra': 'yes' });
      expect(added.headers).not.toBe(e.headers);
    });

    it('returns a new error even when no headers are given', () => {
      const e = internalError();
      const added = e.withHeaders({});
      expect(added).not.toBe(e);
      expect(observed(added)).toEqual(observed(e));
    });

    it('gives the same body as the original', () => {
      const e = modelNotFound('gpt-x');
      expect(e.withHeaders({ 'x-a': '1' }).toBody()).toEqual(e.toBody());
    });
  });
});

describe('error factories', () => {
  it('invalidApiKey is a 401 invalid_api_key', () => {
    expect(observed(invalidApiKey())).toEqual({
      status: 401,
      message: 'Incorrect API key provided. Use the key issued for your application by the gateway operator.',
      type: 'invalid_request_error',
      code: 'invalid_api_key',
      param: null,
      headers: {},
    });
  });

  it('invalidRequest is a 400 with null param and code by default', () => {
    expect(observed(invalidRequest('bad input'))).toEqual({
      status: 400,
      message: 'bad input',
      type: 'invalid_request_error',
      code: null,
      param: null,
      headers: {},
    });
  });

  it('invalidRequest keeps the given param and code', () => {
    expect(observed(invalidRequest('bad n', 'n', 'integer_below_min_value'))).toEqual({
      status: 400,
      message: 'bad n',
      type: 'invalid_request_error',
      code: 'integer_below_min_value',
      param: 'n',
      headers: {},
    });
  });

  it('modelNotFound is a 404 naming the model, param model', () => {
    expect(observed(modelNotFound('gpt-9'))).toEqual({
      status: 404,
      message: 'The model `gpt-9` does not exist or you do not have access to it.',
      type: 'invalid_request_error',
      code: 'model_not_found',
      param: 'model',
      headers: {},
    });
  });

  it('modelNotAllowed is a 403 naming the model, param model', () => {
    expect(observed(modelNotAllowed('gpt-4o'))).toEqual({
      status: 403,
      message: 'Your application is not allowed to use the model `gpt-4o`.',
      type: 'invalid_request_error',
      code: 'model_not_allowed',
      param: 'model',
      headers: {},
    });
  });

  it('bodyTooLarge is a 413 naming the limit in bytes', () => {
    expect(observed(bodyTooLarge(1_048_576))).toEqual({
      status: 413,
      message: 'Request body exceeds the limit of 1048576 bytes.',
      type: 'invalid_request_error',
      code: 'request_too_large',
      param: null,
      headers: {},
    });
  });

  it('unsupportedMediaType is a 415 asking for JSON', () => {
    expect(observed(unsupportedMediaType())).toEqual({
      status: 415,
      message: "Send the body as JSON with 'Content-Type: application/json'.",
      type: 'invalid_request_error',
      code: null,
      param: null,
      headers: {},
    });
  });

  it("unparsableJson is a 400 with OpenAI's parse message", () => {
    expect(observed(unparsableJson())).toEqual({
      status: 400,
      message: 'We could not parse the JSON body of your request. The OpenAI API expects a JSON payload.',
      type: 'invalid_request_error',
      code: null,
      param: null,
      headers: {},
    });
  });

  it('callerClosed is a 499', () => {
    expect(observed(callerClosed())).toEqual({
      status: 499,
      message: 'The caller closed the request.',
      type: 'invalid_request_error',
      code: null,
      param: null,
      headers: {},
    });
  });

  it('internalError is a 500 server_error', () => {
    expect(observed(internalError())).toEqual({
      status: 500,
      message: 'The gateway had an internal error while processing the request.',
      type: 'server_error',
      code: null,
      param: null,
      headers: {},
    });
  });

  it('rateLimited on requests is a 429 of type requests with retry-after', () => {
    expect(observed(rateLimited('requests', 12, 'application'))).toEqual({
      status: 429,
      message: 'Rate limit reached for requests per minute (application). Please try again in 12s.',
      type: 'requests',
      code: 'rate_limit_exceeded',
      param: null,
      headers: { 'retry-after': '12' },
    });
  });

  it('rateLimited on tokens is a 429 of type tokens with retry-after', () => {
    expect(observed(rateLimited('tokens', 1, 'gateway'))).toEqual({
      status: 429,
      message: 'Rate limit reached for tokens per minute (gateway). Please try again in 1s.',
      type: 'tokens',
      code: 'rate_limit_exceeded',
      param: null,
      headers: { 'retry-after': '1' },
    });
  });

  it('tokensExceedLimit is a 400 request_too_large with no retry-after', () => {
    expect(observed(tokensExceedLimit('gpt-4o-mini', 'application', 1000, 2500))).toEqual({
      status: 400,
      message:
        'Request too large for gpt-4o-mini on tokens per min (TPM) of this application: Limit 1000, Requested 2500. The input or output tokens must be reduced in order to run successfully (lower max_tokens or n, or shorten the messages).',
      type: 'invalid_request_error',
      code: 'request_too_large',
      param: null,
      headers: {},
    });
  });

  it('tokensExceedLimit names the gateway scope', () => {
    expect(tokensExceedLimit('m', 'gateway', 5, 6).message).toMatch(
      /^Request too large for m on tokens per min \(TPM\) of this gateway: Limit 5, Requested 6\. /,
    );
  });

  it('quotaExceeded is a 429 insufficient_quota with retry-after', () => {
    expect(observed(quotaExceeded('application', 86_400))).toEqual({
      status: 429,
      message:
        'You exceeded your current quota: the application monthly budget is spent. It resets at the start of the next month (UTC).',
      type: 'insufficient_quota',
      code: 'insufficient_quota',
      param: null,
      headers: { 'retry-after': '86400' },
    });
  });

  it('unavailable is a 503 service_unavailable with retry-after 1 by default', () => {
    expect(observed(unavailable('Try later.'))).toEqual({
      status: 503,
      message: 'Try later.',
      type: 'server_error',
      code: 'service_unavailable',
      param: null,
      headers: { 'retry-after': '1' },
    });
  });

  it('unavailable takes the given retry-after seconds', () => {
    expect(unavailable('Try later.', 30).headers).toEqual({ 'retry-after': '30' });
  });

  it('upstreamFailed is a 502 upstream_error with the given message', () => {
    expect(observed(upstreamFailed('The upstream model API answered 500.'))).toEqual({
      status: 502,
      message: 'The upstream model API answered 500.',
      type: 'server_error',
      code: 'upstream_error',
      param: null,
      headers: {},
    });
  });

  it('upstreamTimeout is a 504 upstream_timeout', () => {
    expect(observed(upstreamTimeout())).toEqual({
      status: 504,
      message: 'The upstream model API did not answer in time.',
      type: 'server_error',
      code: 'upstream_timeout',
      param: null,
      headers: {},
    });
  });

  it('contentFlagged is a 400 content_flagged on messages', () => {
    expect(observed(contentFlagged())).toEqual({
      status: 400,
      message: 'The input was flagged by the moderation check and was not sent to the model.',
      type: 'invalid_request_error',
      code: 'content_flagged',
      param: 'messages',
      headers: {},
    });
  });

  it("notFound is a 404 unknown_url naming the method and path like OpenAI's", () => {
    expect(observed(notFound('GET', '/v1/nope'))).toEqual({
      status: 404,
      message: 'Invalid URL (GET /v1/nope)',
      type: 'invalid_request_error',
      code: 'unknown_url',
      param: null,
      headers: {},
    });
  });

  it('gives each call its own headers object', () => {
    const a = rateLimited('requests', 1, 'x');
    const b = rateLimited('requests', 1, 'x');
    expect(a.headers).not.toBe(b.headers);
    expect(a).not.toBe(b);
  });
});
