/**
 * Upstream failures as the caller sees them. `parseUpstreamError` is the one reader of OpenAI's error
 * bodies: the retrying client uses it for its final 429, the SSE relay for an error status that arrives
 * after the stream was opened.
 */
import { GatewayError, unavailable, upstreamFailed } from '../errors';

/** The fields of OpenAI's `{"error":{...}}` body, as far as they are present and strings. */
export interface UpstreamErrorFields {
  readonly message?: string;
  readonly type?: string;
  readonly code?: string | null;
  readonly param?: string | null;
}

/** The error object of an upstream body, or undefined when the body is not OpenAI's error shape. */
export function parseUpstreamError(text: string): UpstreamErrorFields | undefined {
  let error: unknown;
  try {
    error = (JSON.parse(text) as { error?: unknown }).error;
  } catch {
    return undefined;
  }
  if (typeof error !== 'object' || error === null || Array.isArray(error)) return undefined;
  const e = error as Record<string, unknown>;
  // Only strings (and null for code and param) reach the caller's error body.
  const field = (name: string, nullable: boolean) =>
    typeof e[name] === 'string' || (nullable && e[name] === null) ? { [name]: e[name] } : {};
  return {
    ...field('message', false),
    ...field('type', false),
    ...field('code', true),
    ...field('param', true),
  };
}

/** An upstream non-2xx answer as a caller's error: its own fields, or a generic one naming its status. */
export function upstreamStatusError(status: number, text: string): GatewayError {
  const e = parseUpstreamError(text);
  if (!e?.message) return upstreamFailed(`The upstream model API answered ${status}.`);
  return new GatewayError(status, {
    message: e.message,
    type: e.type ?? 'invalid_request_error',
    code: e.code ?? null,
    param: e.param ?? null,
  });
}

/** Errors from the key provider and upstream, as the caller should see them. */
export function mapUpstreamError(err: unknown): unknown {
  // By name: runtime/secrets (and the AWS SDK behind it) loads only when a secret ARN is configured.
  if (err instanceof Error && err.name === 'SecretUnavailableError') {
    return unavailable('The gateway cannot read its upstream credentials yet; try again shortly.', 5);
  }
  return err;
}

/**
 * The caller's AbortSignal ended the request (undici reports it as an abort). Duck-typed: a signal's
 * reason is a DOMException, which is not `instanceof Error` in every realm.
 */
export function isCallerAbort(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const { name, code } = err as { name?: unknown; code?: unknown };
  return name === 'AbortError' || code === 'UND_ERR_ABORTED';
}
