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

/** An error answered to the caller with `status`, OpenAI's body shape and optional headers. */
export class GatewayError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type: string,
    readonly code: string | null = null,
    readonly param: string | null = null,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = 'GatewayError';
  }

  toBody(): OpenAIErrorBody {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

export const invalidApiKey = (): GatewayError =>
  new GatewayError(
    401,
    'Incorrect API key provided. Use the key issued for your application by the gateway operator.',
    'invalid_request_error',
    'invalid_api_key',
  );

export const invalidRequest = (message: string, param: string | null = null, code: string | null = null) =>
  new GatewayError(400, message, 'invalid_request_error', code, param);

export const modelNotFound = (model: string): GatewayError =>
  new GatewayError(
    404,
    `The model \`${model}\` does not exist or you do not have access to it.`,
    'invalid_request_error',
    'model_not_found',
    'model',
  );

export const modelNotAllowed = (model: string): GatewayError =>
  new GatewayError(
    403,
    `Your application is not allowed to use the model \`${model}\`.`,
    'invalid_request_error',
    'model_not_allowed',
    'model',
  );

export const bodyTooLarge = (limit: number): GatewayError =>
  new GatewayError(
    413,
    `Request body exceeds the limit of ${limit} bytes.`,
    'invalid_request_error',
    'request_too_large',
  );

export const rateLimited = (
  what: 'requests' | 'tokens',
  retryAfterSeconds: number,
  scope: string,
): GatewayError =>
  new GatewayError(
    429,
    `Rate limit reached for ${what} per minute (${scope}). Please try again in ${retryAfterSeconds}s.`,
    what,
    'rate_limit_exceeded',
    null,
    { 'retry-after': String(retryAfterSeconds) },
  );

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
  new GatewayError(
    400,
    `Request too large for ${model} on tokens per min (TPM) of this ${scope}: Limit ${limit}, Requested ${requested}. The input or output tokens must be reduced in order to run successfully (lower max_tokens or n, or shorten the messages).`,
    'invalid_request_error',
    'request_too_large',
  );

export const quotaExceeded = (scope: string, retryAfterSeconds: number): GatewayError =>
  new GatewayError(
    429,
    `You exceeded your current quota: the ${scope} monthly budget is spent. It resets at the start of the next month (UTC).`,
    'insufficient_quota',
    'insufficient_quota',
    null,
    { 'retry-after': String(retryAfterSeconds) },
  );

export const unavailable = (message: string, retryAfterSeconds = 1): GatewayError =>
  new GatewayError(503, message, 'server_error', 'service_unavailable', null, {
    'retry-after': String(retryAfterSeconds),
  });

export const upstreamFailed = (message: string): GatewayError =>
  new GatewayError(502, message, 'server_error', 'upstream_error');

export const upstreamTimeout = (): GatewayError =>
  new GatewayError(504, 'The upstream model API did not answer in time.', 'server_error', 'upstream_timeout');

export const contentFlagged = (): GatewayError =>
  new GatewayError(
    400,
    'The input was flagged by the moderation check and was not sent to the model.',
    'invalid_request_error',
    'content_flagged',
    'messages',
  );

export const notFound = (method: string, url: string): GatewayError =>
  new GatewayError(404, `Invalid URL (${method} ${url})`, 'invalid_request_error', 'unknown_url');
