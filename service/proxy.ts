/**
 * The pipeline of one model call, after authentication: policy -> admission (limits, budgets and cache
 * read in one store round trip) -> cache hit replay, or moderation -> upstream (JSON or SSE relay) ->
 * settlement from `usage` (off the response path) -> cache write of a complete 200.
 */
import { once } from 'node:events';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ClientConfig, GatewayConfig } from '../runtime/gateway-config';
import { Admission, refusal } from './admission';
import { CacheEntryKind, cacheKey, canonicalJson } from './cache-key';
import { contentFlagged, GatewayError, unavailable, upstreamFailed } from './errors';
import { extractUsage, meter, NOTHING_METERED, type Metered } from './metering';
import type { CacheStatus } from './metrics';
import { moderationInput, UpstreamPath, type PreparedRequest } from './policy';
import { rateLimitHeaders } from './rate-limit-headers';
import type { CacheEntry, GatewayStore } from './store/types';
import { SSE_KEEP_ALIVE, SseRelay, sseErrorFrame } from './streaming';
import type { AttemptCounts, UpstreamClient, UpstreamResponse } from './upstream';

/** What the request log and metrics learn about one exchange while it runs. */
export interface Exchange {
  readonly started: number;
  client?: ClientConfig;
  model?: string;
  cache?: CacheStatus;
  upstreamMs?: number;
  timeToFirstTokenMs?: number;
  metered: Metered;
  budgetExceeded: boolean;
  readonly attempts: AttemptCounts;
  /** How a stream ended: complete, upstream failed mid-way, or the caller went away. */
  streamOutcome?: 'complete' | 'upstream_failed' | 'caller_aborted';
  /** Admitted and not settled yet: metrics wait for the metered usage (a caller may leave first). */
  unsettled?: boolean;
  /** Runs once the exchange is settled, if it was still unsettled when the response closed. */
  afterSettle?: () => void;
  /** The route, for the request log. */
  path?: string;
  /** Runs when the response closes (the HTTP layer's one close listener calls it). */
  onClose?: () => void;
}

export interface ProxyOptions {
  readonly config: GatewayConfig;
  readonly store: GatewayStore;
  readonly upstream: UpstreamClient;
  /** Interval of `: keep-alive` comments while a stream waits for upstream, ms. */
  readonly sseKeepAliveMs: number;
}

const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  'x-accel-buffering': 'no',
};

export class Proxy {
  private readonly admission: Admission;
  private readonly cacheTtl: number;
  /** Cacheable JSON calls in flight, by cache key: identical concurrent misses share one upstream call. */
  private readonly inflight = new Map<string, Promise<{ status: number; text: string }>>();

  constructor(private readonly options: ProxyOptions) {
    this.admission = new Admission(options.config);
    this.cacheTtl = options.config.cache.ttlSeconds;
  }

  /** Serves a prepared request. Throws GatewayError before anything was sent; handles errors itself after. */
  async serve(
    request: FastifyRequest,
    reply: FastifyReply,
    exchange: Exchange,
    client: ClientConfig,
    prepared: PreparedRequest,
  ): Promise<void> {
    const { store, config } = this.options;
    exchange.model = prepared.model;
    this.admission.checkFits(client, prepared);

    const cacheable =
      this.cacheTtl > 0 && prepared.deterministic && !bypassesCache(request.headers['cache-control']);
    // The canonical JSON keys the cache and is also the body sent upstream: the body is serialised once.
    const canonicalBody = cacheable ? canonicalJson(prepared.body) : undefined;
    const key =
      canonicalBody === undefined
        ? undefined
        : cacheKey(
            {
              version: config.cache.version,
              clientId: client.id,
              endpoint: prepared.endpoint,
              stream: prepared.stream,
            },
            canonicalBody,
          );

    const decision = await store.admit(this.admission.request(client, prepared, key));
    const headers: Record<string, string> = rateLimitHeaders(decision.rateLimit);
    if (!decision.ok) {
      exchange.budgetExceeded = decision.reason === 'client_budget' || decision.reason === 'stage_budget';
      const err = refusal(decision.reason, decision.retryAfterSeconds);
      reply.headers(headers);
      throw err;
    }
    const ticket = decision.ticket;

    if (key !== undefined && decision.cached !== null) {
      // A hit reserved only the request (no tokens, no cost): there is nothing to settle.
      exchange.cache = 'HIT';
      headers['x-cache-status'] = 'HIT';
      reply.headers(headers);
      const kind = decision.cached[0];
      const payload = decision.cached.slice(1);
      if (kind === CacheEntryKind.stream) reply.headers(SSE_HEADERS);
      else reply.header('content-type', 'application/json');
      reply.code(200).send(payload);
      return;
    }
    exchange.cache = key !== undefined && !decision.degraded ? 'MISS' : 'BYPASS';
    headers['x-cache-status'] = exchange.cache;
    const writeCacheKey = exchange.cache === 'MISS' ? key : undefined;

    const controller = new AbortController();
    const raw = reply.raw;
    exchange.onClose = () => {
      if (!raw.writableFinished) controller.abort();
    };
    if (raw.destroyed) controller.abort(); // the caller left while admission was in flight

    let settled = false;
    exchange.unsettled = true;
    // With the answer to cache, when there is one: settlement and cache write are one store command.
    const settle = (metered: Metered, cacheEntry?: CacheEntry) => {
      if (settled) return;
      settled = true;
      exchange.metered = metered;
      exchange.unsettled = false;
      exchange.afterSettle?.();
      void store.settle(
        ticket,
        { tokens: metered.promptTokens + metered.completionTokens, costNanos: metered.costNanos },
        cacheEntry,
      );
    };
    try {
      if (prepared.endpoint === 'chat' && config.moderation.enabled) {
        await this.moderate(prepared, controller.signal, exchange);
      }
      if (prepared.stream) {
        await this.stream(reply, exchange, prepared, headers, controller.signal, writeCacheKey, settle);
      } else {
        const payload = canonicalBody ?? JSON.stringify(prepared.body);
        await this.json(
          reply,
          exchange,
          prepared,
          payload,
          headers,
          controller.signal,
          writeCacheKey,
          settle,
        );
      }
    } catch (err) {
      settle(controller.signal.aborted ? this.estimate(prepared, 0) : NOTHING_METERED);
      if (!reply.sent && !raw.headersSent) reply.headers(headers);
      throw mapUpstreamError(err);
    } finally {
      settle(NOTHING_METERED);
    }
  }

  private async json(
    reply: FastifyReply,
    exchange: Exchange,
    prepared: PreparedRequest,
    payload: string,
    headers: Record<string, string>,
    signal: AbortSignal,
    writeCacheKey: string | undefined,
    settle: (m: Metered, cacheEntry?: CacheEntry) => void,
  ): Promise<void> {
    if (writeCacheKey) {
      const leader = this.inflight.get(writeCacheKey);
      const shared = leader && (await leader.catch(() => undefined));
      if (shared?.status === 200) {
        // Same answer as a cache hit, one upstream call later: this request used no tokens of its own.
        exchange.cache = 'HIT';
        reply
          .code(200)
          .headers(headers)
          .header('x-cache-status', 'HIT')
          .header('content-type', 'application/json');
        reply.send(shared.text);
        return settle(NOTHING_METERED);
      }
    }
    const call = (async () => {
      const up = await this.options.upstream.post(
        UpstreamPath[prepared.endpoint],
        payload,
        signal,
        exchange.attempts,
      );
      exchange.upstreamMs = up.headersMs;
      return { status: up.status, text: await up.body.text() };
    })();
    if (writeCacheKey) {
      this.inflight.set(writeCacheKey, call);
      const forget = () => {
        if (this.inflight.get(writeCacheKey) === call) this.inflight.delete(writeCacheKey);
      };
      call.then(forget, forget);
    }
    const { status, text } = await call;
    reply.code(status).headers(headers).header('content-type', 'application/json').send(text);
    // Settlement and the cache write happen after the reply is on its way: the caller does not wait for them.
    if (status !== 200) return settle(NOTHING_METERED);
    const usage = extractUsage(text);
    settle(
      usage ? meter(this.admission.price(prepared.model), usage) : NOTHING_METERED,
      writeCacheKey === undefined
        ? undefined
        : { key: writeCacheKey, value: CacheEntryKind.json + text, ttlSeconds: this.cacheTtl },
    );
  }

  private async stream(
    reply: FastifyReply,
    exchange: Exchange,
    prepared: PreparedRequest,
    headers: Record<string, string>,
    signal: AbortSignal,
    writeCacheKey: string | undefined,
    settle: (m: Metered, cacheEntry?: CacheEntry) => void,
  ): Promise<void> {
    const raw = reply.raw;
    const body = {
      ...prepared.body,
      stream_options: { ...(prepared.body.stream_options as object | undefined), include_usage: true },
    };
    let open = false;
    const openStream = () => {
      if (open) return;
      open = true;
      reply.hijack();
      raw.writeHead(200, { ...SSE_HEADERS, ...headers, 'x-request-id': String(reply.request.id) });
    };
    const keepAlive = setInterval(() => {
      if (signal.aborted) return;
      openStream();
      raw.write(SSE_KEEP_ALIVE);
    }, this.options.sseKeepAliveMs);

    let up: UpstreamResponse;
    try {
      up = await this.options.upstream.post(
        UpstreamPath.chat,
        JSON.stringify(body),
        signal,
        exchange.attempts,
      );
    } catch (err) {
      if (!open) throw err;
      // Headers (and keep-alives) already went out: report in the stream, as OpenAI does.
      settle(NOTHING_METERED);
      exchange.streamOutcome = signal.aborted ? 'caller_aborted' : 'upstream_failed';
      if (!signal.aborted) endWithError(raw, mapUpstreamError(err));
      return;
    } finally {
      clearInterval(keepAlive);
    }
    exchange.upstreamMs = up.headersMs;

    if (up.status !== 200) {
      const text = await up.body.text();
      settle(NOTHING_METERED);
      if (!open) {
        reply.code(up.status).headers(headers).header('content-type', 'application/json').send(text);
        return;
      }
      endWithError(raw, upstreamErrorFrom(up.status, text));
      return;
    }

    openStream();
    const relay = new SseRelay({
      callerWantsUsage: prepared.callerWantsUsage,
      capture: writeCacheKey !== undefined,
    });
    try {
      for await (const chunk of up.body as AsyncIterable<Buffer>) {
        const out = relay.push(chunk);
        if (out.length === 0) continue;
        exchange.timeToFirstTokenMs ??= performance.now() - exchange.started;
        if (!raw.write(out)) await once(raw, 'drain', { signal });
      }
    } catch {
      // the caller went away (signal) or upstream broke the stream: handled below
    }
    const price = this.admission.price(prepared.model);
    const metered = relay.usage ? meter(price, relay.usage) : this.estimate(prepared, relay.frames);
    if (signal.aborted) {
      exchange.streamOutcome = 'caller_aborted';
      up.body.destroy();
    } else if (!relay.done) {
      exchange.streamOutcome = 'upstream_failed';
      endWithError(raw, upstreamFailed('The upstream model API ended the stream before it was complete.'));
    } else {
      exchange.streamOutcome = 'complete';
      raw.end();
    }
    // Only a complete stream without an error event is cached.
    const cacheable = exchange.streamOutcome === 'complete' && writeCacheKey !== undefined && !relay.errored;
    settle(
      metered,
      cacheable
        ? { key: writeCacheKey, value: CacheEntryKind.stream + relay.forwarded, ttlSeconds: this.cacheTtl }
        : undefined,
    );
  }

  private async moderate(prepared: PreparedRequest, signal: AbortSignal, exchange: Exchange): Promise<void> {
    const input = moderationInput(prepared.body);
    const up = await this.options.upstream.post(
      '/moderations',
      JSON.stringify({ model: this.options.config.moderation.model, input }),
      signal,
      exchange.attempts,
    );
    const text = await up.body.text();
    if (up.status !== 200) throw upstreamFailed(`The moderation check failed with status ${up.status}.`);
    let results: Array<{ flagged?: boolean }>;
    try {
      results = (JSON.parse(text) as { results?: Array<{ flagged?: boolean }> }).results ?? [];
    } catch {
      throw upstreamFailed('The moderation check returned an unreadable answer.');
    }
    if (results.some((r) => r.flagged === true)) throw contentFlagged();
  }

  /** What a call that produced no `usage` is assumed to have used: the prompt estimate and the frames sent. */
  private estimate(prepared: PreparedRequest, completionTokens: number): Metered {
    return meter(this.admission.price(prepared.model), {
      prompt_tokens: prepared.promptTokens,
      completion_tokens: completionTokens,
    });
  }
}

function bypassesCache(cacheControl: string | undefined): boolean {
  return cacheControl !== undefined && /no-cache|no-store/i.test(cacheControl);
}

function endWithError(raw: FastifyReply['raw'], err: unknown): void {
  if (raw.destroyed) return;
  const e = err instanceof GatewayError ? err : upstreamFailed('The upstream model API failed.');
  raw.end(sseErrorFrame(e.message, e.type, e.code));
}

/** The error an upstream non-200 answer carried (OpenAI's shape), or a generic one naming its status. */
function upstreamErrorFrom(status: number, text: string): GatewayError {
  try {
    const e = (JSON.parse(text) as { error?: { message?: string; type?: string; code?: string | null } })
      .error;
    if (e?.message)
      return new GatewayError(status, e.message, e.type ?? 'invalid_request_error', e.code ?? null);
  } catch {
    // not JSON: fall through
  }
  return upstreamFailed(`The upstream model API answered ${status}.`);
}

/** Errors from the key provider and upstream, as the caller should see them. */
export function mapUpstreamError(err: unknown): unknown {
  // By name: runtime/secrets (and the AWS SDK behind it) loads only when a secret ARN is configured.
  if (err instanceof Error && err.name === 'SecretUnavailableError') {
    return unavailable('The gateway cannot read its upstream credentials yet; try again shortly.', 5);
  }
  return err;
}

export function isCallerAbort(err: unknown): boolean {
  return (
    err instanceof Error &&
    (err.name === 'AbortError' || (err as { code?: string }).code === 'UND_ERR_ABORTED')
  );
}
