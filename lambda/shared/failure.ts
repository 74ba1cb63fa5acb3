import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import { HandlerConfigError } from './env';

/** Why a call to OpenAI (or the setup before it) failed, as logged and alarmed on. */
export type FailureCause =
  | 'auth'
  | 'rate_limit'
  | 'timeout'
  | 'server_error'
  | 'connection'
  | 'client_error'
  | 'bad_response'
  | 'secret'
  | 'config'
  | 'unknown';

/** What a log line says about a failure: never the key, the prompt or the upstream's body beyond its message. */
export interface FailureInfo {
  readonly cause: FailureCause;
  /** Upstream HTTP status, when there was a response. */
  readonly status?: number;
  /** Upstream `x-request-id`, for OpenAI support. */
  readonly requestId?: string;
  /** The error's message, with anything that looks like an API key redacted. Not `message`: Powertools reserves that key. */
  readonly detail: string;
}

/** The upstream answered 2xx, but with a body that does not have the documented shape. */
export class BadResponseError extends Error {
  override readonly name = 'BadResponseError';
}

/** Maps an error from the `openai` SDK, the secrets module or the handler's own checks to a cause. */
export function describeFailure(err: unknown): FailureInfo {
  const message = redactKeys(errorField(err, 'message') ?? String(err));
  // By name: runtime/secrets is loaded lazily (it brings the Secrets Manager client).
  if (errorField(err, 'name') === 'SecretUnavailableError') return { cause: 'secret', detail: message };
  if (err instanceof BadResponseError) return { cause: 'bad_response', detail: message };
  if (err instanceof HandlerConfigError) return { cause: 'config', detail: message };
  if (err instanceof APIUserAbortError || err instanceof APIConnectionTimeoutError) {
    return { cause: 'timeout', detail: message };
  }
  if (err instanceof APIConnectionError) return { cause: 'connection', detail: message };
  if (err instanceof APIError && typeof err.status === 'number') {
    const status = err.status;
    const requestId = err.requestID ?? undefined;
    const base = { status, detail: message, ...(requestId ? { requestId } : {}) };
    if (status === 401 || status === 403) return { cause: 'auth', ...base };
    if (status === 429) return { cause: 'rate_limit', ...base };
    if (status === 408) return { cause: 'timeout', ...base };
    if (status >= 500) return { cause: 'server_error', ...base };
    return { cause: 'client_error', ...base };
  }
  const name = errorField(err, 'name');
  if (name === 'AbortError' || name === 'TimeoutError') {
    return { cause: 'timeout', detail: message };
  }
  if (isSocketError(err)) return { cause: 'connection', detail: message };
  return { cause: 'unknown', detail: message };
}

/** OpenAI's 401 message quotes the start and end of the key it refused (`sk-abc***wxyz`): keep neither. */
export function redactKeys(text: string): string {
  return text.replace(/\b(sk|key)-[A-Za-z0-9_*.-]+/g, '$1-[redacted]');
}

/** fetch (undici) reports a connection lost mid-body as `TypeError: terminated` with a socket error cause. */
function isSocketError(err: unknown): boolean {
  const cause = typeof err === 'object' && err !== null ? (err as { cause?: unknown }).cause : undefined;
  const code = errorField(cause, 'code');
  if (code && (code.startsWith('UND_ERR') || code === 'ECONNRESET' || code === 'EPIPE')) return true;
  return errorField(err, 'name') === 'TypeError' && errorField(err, 'message') === 'terminated';
}

/**
 * A string property of an error-like value. Duck-typed on purpose: errors from Node internals (fetch)
 * are not `instanceof Error` in another realm, such as a Jest sandbox.
 */
function errorField(err: unknown, field: 'name' | 'message' | 'code'): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const value = (err as Record<string, unknown>)[field];
  return typeof value === 'string' ? value : undefined;
}

/** True for a 401: the key was revoked or rotated, so a fresh read of the secret may help. */
export function isUnauthorized(err: unknown): boolean {
  return err instanceof APIError && err.status === 401;
}
