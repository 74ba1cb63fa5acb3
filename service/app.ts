/**
 * The gateway's HTTP layer: builds the Fastify app from injected dependencies (tests run it in process)
 * and only wires the pipeline steps together: authentication, policy, the proxy, errors, metrics, logs.
 */
import Fastify, {
  LogController,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import type { GatewayConfig } from '../runtime/gateway-config';
import { GatewayPaths } from '../runtime/gateway-env';
import { createAuthenticator } from './auth';
import { bodyTooLarge, GatewayError, invalidApiKey, invalidRequest, notFound } from './errors';
import { NOTHING_METERED } from './metering';
import type { GatewayMetrics } from './metrics';
import { Policy, type PreparedRequest } from './policy';
import { isCallerAbort, Proxy, type Exchange } from './proxy';
import type { GatewayStore } from './store/types';
import type { UpstreamClient } from './upstream';

export interface AppDeps {
  readonly config: GatewayConfig;
  readonly store: GatewayStore;
  readonly upstream: UpstreamClient;
  readonly metrics: GatewayMetrics;
  /** Readiness for `/readyz`: false until the upstream key is loaded, and while draining. */
  readonly isReady: () => boolean;
  /** Receives each JSON log line. @default no logs */
  readonly logSink?: { write(line: string): void };
  /** @default 'info' */
  readonly logLevel?: string;
  /** Interval of SSE keep-alive comments while a stream waits for upstream, ms. @default 15000 */
  readonly sseKeepAliveMs?: number;
  /** Node `keepAliveTimeout`, above the ALB idle timeout; `headersTimeout` is set 1 s above it. @default 125000 */
  readonly keepAliveTimeoutMs?: number;
}

declare module 'fastify' {
  interface FastifyRequest {
    exchange: Exchange | null;
  }
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const { config, metrics } = deps;
  const keepAliveTimeout = deps.keepAliveTimeoutMs ?? 125_000;
  const app = Fastify({
    logger: deps.logSink
      ? {
          level: deps.logLevel ?? 'info',
          stream: deps.logSink,
          // "level":"info" rather than 30: readable in CloudWatch Logs Insights filters.
          formatters: { level: (label: string) => ({ level: label }) },
          // Never the caller's key or the upstream key; bodies are never logged at all.
          redact: {
            paths: ['req.headers.authorization', 'headers.authorization', 'authorization'],
            censor: '[redacted]',
          },
        }
      : false,
    // One line per request, written by `finish` below, instead of Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.limits.maxBodyBytes,
    keepAliveTimeout,
    // Streams can outlive any fixed request timeout; upstream timeouts bound the work instead.
    requestTimeout: 0,
    connectionTimeout: 0,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
  });
  app.server.headersTimeout = keepAliveTimeout + 1_000;

  const authenticate = createAuthenticator(config.clients);
  const policy = new Policy(config);
  const proxy = new Proxy({
    config,
    store: deps.store,
    upstream: deps.upstream,
    sseKeepAliveMs: deps.sseKeepAliveMs ?? 15_000,
  });

  app.decorateRequest('exchange', null);

  app.setErrorHandler((err, request, reply) => {
    const e = toGatewayError(err, config.limits.maxBodyBytes);
    if (e.status >= 500) {
      request.log.error(
        { err: { name: (err as Error).name, code: (err as { code?: string }).code } },
        e.message,
      );
    }
    void reply.code(e.status).headers(e.headers).send(e.toBody());
  });
  app.setNotFoundHandler((request, reply) => {
    const e = notFound(request.method, request.url.split('?')[0]);
    void reply.code(404).send(e.toBody());
  });

  app.get(GatewayPaths.health, async () => ({ status: 'ok' }));
  app.get(GatewayPaths.ready, async (_request, reply) => {
    const ready = deps.isReady();
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not_ready' });
  });

  // Everything under /v1: authenticated before the body is read, measured and logged once on close.
  await app.register(async (v1) => {
    // A callback hook, not an async one: no promise per request.
    v1.addHook('onRequest', (request, reply, done) => {
      const exchange: Exchange = {
        started: performance.now(),
        metered: NOTHING_METERED,
        budgetExceeded: false,
        attempts: { throttled: 0, errors: 0 },
      };
      request.exchange = exchange;
      // The one close listener of the exchange: the log line and metrics, then the proxy's abort.
      reply.raw.once('close', () => {
        finish(request, reply, exchange);
        exchange.onClose?.();
      });
      const client = authenticate(request.headers.authorization);
      if (!client) return done(invalidApiKey());
      exchange.client = client;
      done();
    });

    v1.get('/v1/models', async (request) => {
      const client = request.exchange!.client!;
      return {
        object: 'list',
        data: policy
          .modelsFor(client)
          .map((id) => ({ id, object: 'model', created: 0, owned_by: 'gateway' })),
      };
    });

    const serve = (path: string, prepare: (request: FastifyRequest) => PreparedRequest) => {
      return async (request: FastifyRequest, reply: FastifyReply) => {
        const exchange = request.exchange!;
        exchange.path = path;
        const prepared = prepare(request);
        await proxy.serve(request, reply, exchange, exchange.client!, prepared);
        return reply;
      };
    };
    const CHAT = '/v1/chat/completions';
    const EMBEDDINGS = '/v1/embeddings';
    v1.post(
      CHAT,
      serve(CHAT, (request) => policy.prepareChat(request.exchange!.client!, request.body)),
    );
    v1.post(
      EMBEDDINGS,
      serve(EMBEDDINGS, (request) => policy.prepareEmbeddings(request.exchange!.client!, request.body)),
    );
  });

  function finish(request: FastifyRequest, reply: FastifyReply, exchange: Exchange): void {
    const raw = reply.raw;
    const aborted = !raw.writableFinished || exchange.streamOutcome === 'caller_aborted';
    const status = aborted ? 499 : raw.statusCode;
    const latencyMs = performance.now() - exchange.started;
    // A caller who left mid-call closes the response before usage is known: record once it is.
    if (exchange.unsettled) exchange.afterSettle = () => record(request, exchange, status, latencyMs);
    else record(request, exchange, status, latencyMs);
  }

  function record(request: FastifyRequest, exchange: Exchange, status: number, latencyMs: number): void {
    metrics.record({
      model: exchange.model,
      clientId: exchange.client?.id,
      status,
      latencyMs,
      timeToFirstTokenMs: exchange.timeToFirstTokenMs,
      upstreamLatencyMs: exchange.upstreamMs,
      promptTokens: exchange.metered.promptTokens,
      completionTokens: exchange.metered.completionTokens,
      costNanos: exchange.metered.costNanos,
      cache: exchange.cache,
      budgetExceeded: exchange.budgetExceeded,
      upstream429: exchange.attempts.throttled,
      upstreamErrors: exchange.attempts.errors,
    });
    request.log.info(
      {
        method: request.method,
        // Fastify's routeOptions builds a new options object on every read: only when the route set no path.
        path: exchange.path ?? request.routeOptions.url ?? 'unknown',
        status,
        client: exchange.client?.id,
        model: exchange.model,
        cache: exchange.cache,
        stream: exchange.streamOutcome,
        latencyMs: Math.round(latencyMs * 10) / 10,
        ttftMs:
          exchange.timeToFirstTokenMs === undefined ? undefined : Math.round(exchange.timeToFirstTokenMs),
        promptTokens: exchange.metered.promptTokens,
        completionTokens: exchange.metered.completionTokens,
        upstreamRetries: exchange.attempts.throttled + exchange.attempts.errors || undefined,
      },
      'request completed',
    );
  }

  return app;
}

/** Maps anything thrown in a handler to the OpenAI-shaped error the caller receives. */
export function toGatewayError(err: unknown, maxBodyBytes: number): GatewayError {
  if (err instanceof GatewayError) return err;
  const e = err as { code?: string; statusCode?: number; message?: string };
  if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return bodyTooLarge(maxBodyBytes);
  if (e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    return new GatewayError(
      415,
      "Send the body as JSON with 'Content-Type: application/json'.",
      'invalid_request_error',
    );
  }
  if (e.code === 'FST_ERR_CTP_EMPTY_JSON_BODY')
    return invalidRequest('The request body is empty; send a JSON object.');
  if (e.statusCode === 400 || err instanceof SyntaxError) {
    return invalidRequest(
      'We could not parse the JSON body of your request. The OpenAI API expects a JSON payload.',
    );
  }
  if (isCallerAbort(err))
    return new GatewayError(499, 'The caller closed the request.', 'invalid_request_error');
  return new GatewayError(
    500,
    'The gateway had an internal error while processing the request.',
    'server_error',
  );
}
