/**
 * The upstream client: undici `Pool` (keep-alive, bounded connections) rather than the `openai` SDK,
 * because a pass-through proxy should forward bytes, not parse and rebuild every response object.
 *
 * Retries 429, 5xx, timeouts and connection failures up to `maxRetries` times with exponential backoff
 * and full jitter, honouring `Retry-After`/`retry-after-ms` up to `maxRetryAfterSeconds`; then a 429 stays
 * a 429 (with `Retry-After`), a 5xx becomes 502 and a timeout 504. A 401 re-reads the key once (rotation).
 * The caller's AbortSignal cancels the request and any wait between attempts. A streamed body (an
 * upload relayed as it arrives) cannot be replayed: once one byte of it has gone there is no retry.
 */
import { systemClock, type Clock } from '../../runtime/clock';
import type { Readable } from 'node:stream';
import { Pool, errors as undiciErrors, type Dispatcher } from 'undici';
import { GatewayError, upstreamFailed, upstreamTimeout } from '../errors';
import { parseUpstreamError } from './errors';
import type { UpstreamKeyProvider } from './key';

export interface UpstreamOptions {
  /** Base URL including `/v1`, e.g. `https://api.openai.com/v1`. */
  readonly baseUrl: string;
  readonly key: UpstreamKeyProvider;
  /** `OpenAI-Organization` header. @default none */
  readonly organization?: string;
  /** `OpenAI-Project` header. @default none */
  readonly project?: string;
  /** Time allowed for response headers, and between body chunks, ms. */
  readonly timeoutMs: number;
  /** Retries after the first attempt. */
  readonly maxRetries: number;
  /** Longest `Retry-After` worth waiting for; a longer one ends the retries at once. */
  readonly maxRetryAfterSeconds: number;
  /** First backoff step, ms (doubles each retry, full jitter). @default 250 */
  readonly retryBaseDelayMs?: number;
  /** Largest backoff step, ms. @default 8000 */
  readonly retryMaxDelayMs?: number;
  /** Most open connections to the upstream. @default 256 */
  readonly connections?: number;
}

/** Failed attempts of one call: 429s and 5xx/timeouts/connection failures (metrics), and what may bill. */
export interface AttemptCounts {
  throttled: number;
  errors: number;
  /**
   * Attempts upstream may have billed without the gateway seeing their usage: sent, then timed out,
   * cut off, or abandoned by the caller while in flight. Each is charged the call's worst case.
   */
  unanswered: number;
}

/** Fresh counts for one call. */
export const noAttempts = (): AttemptCounts => ({ throttled: 0, errors: 0, unanswered: 0 });

/** The request may have reached upstream: anything but a failure to connect at all. */
function mayHaveReachedUpstream(err: unknown): boolean {
  if (err instanceof undiciErrors.ConnectTimeoutError) return false;
  const code = (err as { code?: unknown }).code;
  return !(
    code === 'ECONNREFUSED' ||
    code === 'ENOTFOUND' ||
    code === 'EAI_AGAIN' ||
    code === 'EHOSTUNREACH'
  );
}

/** One call upstream. */
export interface UpstreamRequest {
  /** @default 'POST' */
  readonly method?: 'GET' | 'POST' | 'DELETE';
  /** Relative to the base URL, with any query, e.g. `/chat/completions`. */
  readonly path: string;
  /** The JSON body, or an encoded multipart form. @default none */
  readonly payload?: string | Buffer;
  /** The payload's content type when it is not JSON (a multipart form's). @default JSON */
  readonly contentType?: string;
  /**
   * A body streamed through as it arrives (a multipart upload), instead of `payload`. It cannot be
   * replayed: the request is retried only while not one byte of it has gone. @default none
   */
  readonly streamed?: StreamedBody;
  /** Headers the endpoint needs besides the gateway's own (e.g. `openai-beta`). @default none */
  readonly headers?: Readonly<Record<string, string>>;
  /** The caller's: aborts the attempt in flight and any wait between attempts. */
  readonly signal: AbortSignal;
  /** Counts the failed attempts, for metrics. @default not counted */
  readonly attempts?: AttemptCounts;
}

/** A request body streamed to upstream, with its own content type. */
export interface StreamedBody {
  readonly body: Readable;
  /** The body's `Content-Type`, e.g. `multipart/form-data; boundary=...`. */
  readonly contentType: string;
  /** Its `Content-Length`, when the caller declared one. @default chunked */
  readonly contentLength?: number;
  /** A byte of it has been sent: a retry would send a truncated body. */
  started(): boolean;
}

/** A response with status 2xx, or a 4xx the caller should see as is (bad request from the caller). */
export interface UpstreamResponse {
  readonly status: number;
  readonly headers: Dispatcher.ResponseData['headers'];
  readonly body: Dispatcher.ResponseData['body'];
  /** Time from the last attempt's start to its response headers, ms. */
  readonly headersMs: number;
}

const RETRYABLE_STATUS = new Set([408, 409, 429, 500, 502, 503, 504, 520, 522, 524]);

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });

export class UpstreamClient {
  private readonly pool: Pool;
  private readonly basePath: string;
  private readonly staticHeaders: Record<string, string>;
  /** Request headers for `headersKey`: built once per upstream key, not per request. */
  private headers: Record<string, string> = {};
  private headersKey: string | undefined;

  constructor(private readonly options: UpstreamOptions) {
    const url = new URL(options.baseUrl);
    this.basePath = url.pathname.replace(/\/+$/, '');
    this.pool = new Pool(url.origin, {
      connections: options.connections ?? 256,
      keepAliveTimeout: 30_000,
      keepAliveMaxTimeout: 120_000,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
    });
    this.staticHeaders = {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'user-agent': 'openai-production-blueprint-gateway',
      ...(options.organization ? { 'openai-organization': options.organization } : {}),
      ...(options.project ? { 'openai-project': options.project } : {}),
    };
  }

  private headersFor(key: string): Record<string, string> {
    if (key !== this.headersKey) {
      this.headersKey = key;
      this.headers = { ...this.staticHeaders, authorization: `Bearer ${key}` };
    }
    return this.headers;
  }

  /** Sends `payload` (JSON text) to `path` (e.g. `/chat/completions`) with retries. */
  async send(request: UpstreamRequest): Promise<UpstreamResponse> {
    const { method = 'POST', path, payload, contentType, streamed, signal, attempts } = request;
    const extra = request.headers;
    const { maxRetries, maxRetryAfterSeconds } = this.options;
    let key = await this.options.key.get();
    let refreshedKey = false;
    for (let attempt = 0; ; attempt++) {
      const started = performance.now();
      let res: Dispatcher.ResponseData;
      try {
        res = await this.pool.request({
          method,
          path: this.basePath + path,
          // The gateway's own headers last: an endpoint's extra header never replaces its key.
          headers: { ...extra, ...this.bodyHeaders(key, { streamed, contentType }) },
          body: streamed?.body ?? payload ?? null,
          signal,
        });
      } catch (err) {
        if (attempts && mayHaveReachedUpstream(err)) attempts.unanswered++;
        if (signal.aborted || streamed?.started()) throw err;
        if (attempts) attempts.errors++;
        const timedOut = isTimeout(err);
        if (attempt >= maxRetries) {
          throw timedOut ? upstreamTimeout() : upstreamFailed('The upstream model API could not be reached.');
        }
        await sleep(this.backoffMs(attempt), signal);
        continue;
      }
      const headersMs = performance.now() - started;
      const status = res.statusCode;
      if (status < 400) return { status, headers: res.headers, body: res.body, headersMs };

      if (status === 401 && !refreshedKey && !streamed?.started()) {
        await res.body.dump();
        refreshedKey = true;
        key = await this.options.key.refresh();
        attempt--; // a key re-read is not a retry
        continue;
      }
      if (status === 401 || status === 403) {
        await res.body.dump();
        throw upstreamFailed(
          'The upstream model API rejected the gateway credentials; the operator has been alerted.',
        );
      }
      if (!RETRYABLE_STATUS.has(status)) return { status, headers: res.headers, body: res.body, headersMs };

      if (attempts) {
        if (status === 429) attempts.throttled++;
        else attempts.errors++;
      }
      const retryAfterMs = parseRetryAfterMs(res.headers);
      const tooLong = retryAfterMs !== undefined && retryAfterMs > maxRetryAfterSeconds * 1000;
      const text = await res.body.text().catch(() => '');
      // OpenAI's quota error is a 429 too, but waiting does not help it.
      const quota = status === 429 && text.includes('insufficient_quota');
      const replayable = !streamed?.started();
      if (attempt >= maxRetries || tooLong || quota || !replayable)
        throw finalError(status, text, retryAfterMs);
      await sleep(retryAfterMs ?? this.backoffMs(attempt), signal);
    }
  }

  /** The gateway's headers with the body's own type (and length, for a streamed body) when not JSON. */
  private bodyHeaders(
    key: string,
    body: { readonly streamed?: StreamedBody; readonly contentType?: string | undefined },
  ): Record<string, string> {
    const { streamed, contentType } = body;
    if (streamed === undefined)
      return contentType === undefined
        ? this.headersFor(key)
        : { ...this.headersFor(key), 'content-type': contentType };
    return {
      ...this.headersFor(key),
      'content-type': streamed.contentType,
      ...(streamed.contentLength === undefined ? {} : { 'content-length': String(streamed.contentLength) }),
    };
  }

  async close(): Promise<void> {
    await this.pool.close();
  }

  private backoffMs(attempt: number): number {
    const base = this.options.retryBaseDelayMs ?? 250;
    const cap = this.options.retryMaxDelayMs ?? 8_000;
    return Math.random() * Math.min(cap, base * 2 ** attempt);
  }
}

function isTimeout(err: unknown): boolean {
  return (
    err instanceof undiciErrors.HeadersTimeoutError ||
    err instanceof undiciErrors.BodyTimeoutError ||
    err instanceof undiciErrors.ConnectTimeoutError
  );
}

/** `retry-after-ms` (OpenAI's), else `retry-after` in seconds or as an HTTP date (read against `clock`). */
export function parseRetryAfterMs(
  headers: Dispatcher.ResponseData['headers'],
  clock: Clock = systemClock,
): number | undefined {
  const ms = Number(headers['retry-after-ms']);
  if (headers['retry-after-ms'] !== undefined && Number.isFinite(ms) && ms >= 0) return ms;
  const raw = headers['retry-after'];
  if (typeof raw !== 'string' || raw.length === 0) return undefined;
  const seconds = Number(raw);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(raw);
  return Number.isNaN(date) ? undefined : Math.max(0, date - clock());
}

/**
 * The caller's error once retries are over. A 429 keeps OpenAI's status, type, code and `Retry-After`
 * but carries the gateway's own message: OpenAI's names the organization and its limits.
 */
function finalError(status: number, text: string, retryAfterMs: number | undefined): GatewayError {
  if (status !== 429) {
    return upstreamFailed(`The upstream model API failed with status ${status} after retries.`);
  }
  const error = parseUpstreamError(text) ?? {};
  const seconds = Math.max(1, Math.ceil((retryAfterMs ?? 1000) / 1000));
  const quota = error.code === 'insufficient_quota';
  return new GatewayError(429, {
    message: quota
      ? "The gateway's upstream OpenAI quota is exhausted; the operator has been alerted."
      : `The upstream model API is rate limiting this gateway. Please try again in ${seconds}s.`,
    type: error.type ?? 'requests',
    code: error.code ?? 'rate_limit_exceeded',
    param: error.param ?? null,
    headers: { 'retry-after': String(seconds) },
  });
}
