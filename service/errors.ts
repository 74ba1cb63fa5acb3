/**
 * Errors in OpenAI's shape, `{"error":{"message","type","param","code"}}`, so callers' SDKs raise the
 * same exception classes they would against api.openai.com.
 */

/** Body of every error response. */
export interface OpenAIErrorBody {
  readonly error: {
    readonly message: string;
    readonly type: string;
    readonly param: string | null;
    readonly code: string | null;
  };
}

/** The parts of an OpenAI error besides its HTTP status. */
export interface GatewayErrorFields {
  readonly message: string;
  readonly type: string;
  /** @default null */
  readonly code?: string | null;
  /** The request field at fault. @default null */
  readonly param?: string | null;
  /** Response headers that go with it, e.g. `retry-after`. @default none */
  readonly headers?: Readonly<Record<string, string>>;
}

/** An error answered to the caller with `status`, OpenAI's body shape and optional headers. */
export class GatewayError extends Error {
  readonly type: string;
  readonly code: string | null;
  readonly param: string | null;
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    readonly status: number,
    fields: GatewayErrorFields,
  ) {
    super(fields.message);
    this.name = 'GatewayError';
    this.type = fields.type;
    this.code = fields.code ?? null;
    this.param = fields.param ?? null;
    this.headers = fields.headers ?? {};
  }

  /** The same error with `headers` added (a header of its own wins). */
  withHeaders(headers: Readonly<Record<string, string>>): GatewayError {
    const { message, type, code, param } = this;
    return new GatewayError(this.status, {
      message,
      type,
      code,
      param,
      headers: { ...headers, ...this.headers },
    });
  }

  toBody(): OpenAIErrorBody {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

const INVALID = 'invalid_request_error';
const retryAfter = (seconds: number) => ({ 'retry-after': String(seconds) });

export const invalidApiKey = (): GatewayError =>
  new GatewayError(401, {
    message: 'Incorrect API key provided. Use the key issued for your application by the gateway operator.',
    type: INVALID,
    code: 'invalid_api_key',
  });

export const invalidRequest = (message: string, param: string | null = null, code: string | null = null) =>
  new GatewayError(400, { message, type: INVALID, code, param });

export const modelNotFound = (model: string): GatewayError =>
  new GatewayError(404, {
    message: `The model \`${model}\` does not exist or you do not have access to it.`,
    type: INVALID,
    code: 'model_not_found',
    param: 'model',
  });

export const modelNotAllowed = (model: string): GatewayError =>
  new GatewayError(403, {
    message: `Your application is not allowed to use the model \`${model}\`.`,
    type: INVALID,
    code: 'model_not_allowed',
    param: 'model',
  });

export const bodyTooLarge = (limit: number): GatewayError =>
  new GatewayError(413, {
    message: `Request body exceeds the limit of ${limit} bytes.`,
    type: INVALID,
    code: 'request_too_large',
  });

export const unsupportedMediaType = (): GatewayError =>
  new GatewayError(415, {
    message: "Send the body as JSON with 'Content-Type: application/json'.",
    type: INVALID,
  });

export const unparsableJson = (): GatewayError =>
  invalidRequest('We could not parse the JSON body of your request. The OpenAI API expects a JSON payload.');

export const callerClosed = (): GatewayError =>
  new GatewayError(499, { message: 'The caller closed the request.', type: INVALID });

export const internalError = (): GatewayError =>
  new GatewayError(500, {
    message: 'The gateway had an internal error while processing the request.',
    type: 'server_error',
  });

export const rateLimited = (what: 'requests' | 'tokens', seconds: number, scope: string): GatewayError =>
  new GatewayError(429, {
    message: `Rate limit reached for ${what} per minute (${scope}). Please try again in ${seconds}s.`,
    type: what,
    code: 'rate_limit_exceeded',
    headers: retryAfter(seconds),
  });

/**
 * A request whose token reservation exceeds a TPM limit: it could never be admitted, so it is refused
 * up front rather than with a Retry-After that would never help. OpenAI's wording ("Request too large
 * for <model> on tokens per min (TPM): Limit X, Requested Y"), but status 400: unlike a 429 the SDKs do
 * not retry it, and no wait makes it fit.
 */
export const tokensExceedLimit = (
  model: string,
  scope: 'application' | 'gateway',
  limit: number,
  requested: number,
): GatewayError =>
  new GatewayError(400, {
    message: `Request too large for ${model} on tokens per min (TPM) of this ${scope}: Limit ${limit}, Requested ${requested}. The input or output tokens must be reduced in order to run successfully (lower max_tokens or n, or shorten the messages).`,
    type: INVALID,
    code: 'request_too_large',
  });

export const quotaExceeded = (scope: string, seconds: number): GatewayError =>
  new GatewayError(429, {
    message: `You exceeded your current quota: the ${scope} monthly budget is spent. It resets at the start of the next month (UTC).`,
    type: 'insufficient_quota',
    code: 'insufficient_quota',
    headers: retryAfter(seconds),
  });

export const unavailable = (message: string, seconds = 1): GatewayError =>
  new GatewayError(503, {
    message,
    type: 'server_error',
    code: 'service_unavailable',
    headers: retryAfter(seconds),
  });

/** The gateway's event loop is overloaded: the request was shed before any work was done. */
export const overloaded = (seconds: number): GatewayError =>
  new GatewayError(503, {
    message: `The gateway is overloaded and did not process this request. Please try again in ${seconds}s.`,
    type: 'server_error',
    code: 'gateway_overloaded',
    headers: retryAfter(seconds),
  });

export const upstreamFailed = (message: string): GatewayError =>
  new GatewayError(502, { message, type: 'server_error', code: 'upstream_error' });

export const upstreamTimeout = (): GatewayError =>
  new GatewayError(504, {
    message: 'The upstream model API did not answer in time.',
    type: 'server_error',
    code: 'upstream_timeout',
  });

export const contentFlagged = (): GatewayError =>
  new GatewayError(400, {
    message: 'The input was flagged by the moderation check and was not sent to the model.',
    type: INVALID,
    code: 'content_flagged',
    param: 'messages',
  });

/** A stored object that does not exist, or that the caller does not own: the same answer for both. */
export const objectNotFound = (kind: string, id: string, param: string | null): GatewayError =>
  new GatewayError(404, {
    message: `No ${kind} found with id '${id.slice(0, 128)}'.`,
    type: INVALID,
    param,
    code: 'not_found',
  });

export const notFound = (method: string, url: string): GatewayError =>
  new GatewayError(404, { message: `Invalid URL (${method} ${url})`, type: INVALID, code: 'unknown_url' });

/** Seconds a caller over its concurrency cap is asked to wait: calls in flight usually end within that. */
const CONCURRENCY_RETRY_AFTER_SECONDS = 1;

export const tooManyConcurrentCalls = (limit: number): GatewayError =>
  new GatewayError(429, {
    message: `Too many concurrent requests: this application may have ${limit} in flight at once. Please try again in ${CONCURRENCY_RETRY_AFTER_SECONDS}s.`,
    type: 'requests',
    code: 'concurrency_limit_exceeded',
    headers: retryAfter(CONCURRENCY_RETRY_AFTER_SECONDS),
  });

/** Deepest JSON nesting accepted: far beyond any real request (tool schemas nest a dozen levels). */
export const MAX_JSON_DEPTH = 64;

export const tooDeeplyNested = (): GatewayError =>
  invalidRequest(
    `The JSON body is nested more than ${MAX_JSON_DEPTH} levels deep; flatten it.`,
    null,
    'invalid_json_depth',
  );

export const headersTooLarge = (): GatewayError =>
  new GatewayError(431, {
    message: 'The request headers are too large.',
    type: INVALID,
    code: 'request_header_fields_too_large',
  });

export const requestTimedOut = (): GatewayError =>
  new GatewayError(408, {
    message: 'The request took too long to arrive.',
    type: INVALID,
    code: 'request_timeout',
  });

export const unparsableRequest = (): GatewayError =>
  invalidRequest('The HTTP request could not be parsed.', null, 'bad_request');
