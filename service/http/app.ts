/**
 * The gateway's HTTP layer: the Fastify app, its `/v1` route table built from the endpoint specs, the
 * request record of every `/v1` request, and error mapping. It authenticates before the body is read,
 * hands each model call to the pipeline, and writes one log line and one metrics entry per request
 * when its response closes. Tests build it in process.
 */
import { Readable } from 'node:stream';
import Fastify, {
  LogController,
  type onRequestHookHandler,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import { DEFAULT_MAX_FORM_BYTES, type ApiFamily } from '../../runtime/gateway-config';
import { GatewayPaths } from '../../runtime/gateway-env';
import { ENDPOINT_SPECS, type EndpointSpec } from '../endpoints';
import {
  invalidApiKey,
  invalidRequest,
  notFound,
  tooDeeplyNested,
  unsupportedMediaType,
  type GatewayError,
} from '../errors';
import type { Authenticator } from '../pipeline/authenticate';
import { runModelCall, type CallResult, type PipelineDeps } from '../pipeline/model-call';
import { runBatchCreate } from '../pipeline/batch-create';
import { runFileUpload } from '../pipeline/file-upload';
import { runObjectCall } from '../pipeline/object-call';
import { allowsFamily } from '../endpoints/model-access';
import { OBJECT_ROUTES, type ObjectRoute } from '../endpoints/object-routes';
import type { GatewayMetrics } from '../telemetry/metrics';
import { toGatewayError } from './error-mapping';
import { FastifyResponse } from './fastify-response';
import { registerLoadShedding, type LoadSheddingOptions } from './load-shedding';
import { parseMultipart } from './multipart';
import { answerClientError, armRequestDeadline, jsonDepthExceeds, MAX_JSON_DEPTH } from './protocol-errors';
import { writeRecord, type RequestRecord } from './request-record';

/** Routes whose multipart bodies go to their handler as the raw stream. */
const UPLOAD_ROUTES: ReadonlySet<string> = new Set(['/v1/files']);

/**
 * What one `/v1` request runs with, taken once at its arrival and kept to its end: a config swap
 * (service/main/live-config.ts) changes the next request, never one in flight.
 */
export interface ConfigSnapshot {
  readonly pipeline: PipelineDeps;
  readonly authenticate: Authenticator;
}

export interface AppDeps {
  /** The config running now. Body limits are read once at build: they change only with a restart. */
  readonly snapshot: () => ConfigSnapshot;
  readonly metrics: GatewayMetrics;
  /** Readiness for `/readyz`: false until the upstream key is loaded, and while draining. */
  readonly isReady: () => boolean;
  /** Receives each JSON log line; none when absent. */
  readonly logSink?: { write(line: string): void };
  readonly logLevel: string;
  /** Node `keepAliveTimeout`, above the ALB idle timeout; `headersTimeout` is set 1 s above it. */
  readonly keepAliveTimeoutMs: number;
  /** Most time a request may take to arrive (408 after), ms. */
  readonly requestTimeoutMs: number;
  /** Most time a stream waits for a caller that stopped reading, ms. */
  readonly writeStallTimeoutMs: number;
  /** When `/v1` requests are shed for an overloaded event loop. */
  readonly shedding: Omit<LoadSheddingOptions, 'onShed'>;
}

declare module 'fastify' {
  interface FastifyRequest {
    record: RequestRecord | null;
  }
}

function createFastify(deps: AppDeps): FastifyInstance {
  const app = Fastify({
    logger: deps.logSink
      ? {
          level: deps.logLevel,
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
    // One line per request, written from the request record, instead of Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: maxBodyBytesOf(deps),
    keepAliveTimeout: deps.keepAliveTimeoutMs,
    // Streams can outlive any fixed request timeout: the request's own arrival is bounded in the /v1
    // hooks (armRequestDeadline), and upstream timeouts bound the work.
    requestTimeout: 0,
    connectionTimeout: 0,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    clientErrorHandler: answerClientError,
  });
  app.server.headersTimeout = deps.keepAliveTimeoutMs + 1_000;
  return app;
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = createFastify(deps);
  const maxBodyBytes = maxBodyBytesOf(deps);
  app.decorateRequest('record', null);
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (jsonDepthExceeds(body as string, MAX_JSON_DEPTH)) return done(tooDeeplyNested(), undefined);
    parseJson(request, body as string, done);
  });
  // Uploads are streamed through by their route (the multipart relay), never read here; any other
  // route answers multipart as it answers every type it does not take.
  app.addContentTypeParser('multipart/form-data', (request, payload, done) =>
    UPLOAD_ROUTES.has(request.routeOptions.url ?? '')
      ? done(null, payload)
      : done(unsupportedMediaType(), undefined),
  );
  app.setErrorHandler((err, request, reply) => {
    const e = toGatewayError(err, isMultipart(request) ? maxFormBytesOf(deps) : maxBodyBytes);
    logServerError(request, err, e);
    void reply.code(e.status).headers(e.headers).send(e.toBody());
  });
  app.setNotFoundHandler((request, reply) => {
    void reply.code(404).send(notFound(request.method, request.url.split('?')[0]).toBody());
  });
  app.get(GatewayPaths.health, async () => ({ status: 'ok' }));
  app.get(GatewayPaths.ready, async (_request, reply) => {
    const ready = deps.isReady();
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not_ready' });
  });
  await app.register(async (v1) => registerV1(v1, deps));
  return app;
}

/**
 * Everything under `/v1`: authenticated before the body is read, shed while the event loop is
 * overloaded, recorded once when it closes.
 */
async function registerV1(v1: FastifyInstance, deps: AppDeps): Promise<void> {
  v1.addHook('onRequest', recordAndAuthenticate(deps));
  // After the hook above, so that a shed request is recorded (and counted per client).
  await registerLoadShedding(v1, {
    ...deps.shedding,
    onShed: (request) => {
      if (request.record) request.record.shed = true;
    },
  });
  // The body is in: the arrival deadline no longer applies.
  v1.addHook('preHandler', (request, _reply, done) => {
    request.record?.disarm?.();
    done();
  });
  v1.get('/v1/models', async (request) => ({
    object: 'list',
    data: request
      .record!.pipeline!.policy.models.modelsFor(request.record!.client!)
      .map((id) => ({ id, object: 'model', created: 0, owned_by: 'gateway' })),
  }));
  for (const spec of ENDPOINT_SPECS.filter((s) => !s.multipart)) v1.post(spec.route, modelRoute(spec, deps));
  v1.post('/v1/files', uploadRoute(deps));
  v1.post('/v1/batches', (request, reply) =>
    answerCall({ request, reply, deps, route: '/v1/batches', family: 'batches' }, (response) =>
      runBatchCreate(request.record!.pipeline!, {
        client: request.record!.client!,
        body: request.body,
        response,
      }),
    ),
  );
  for (const route of OBJECT_ROUTES)
    v1.route({ method: route.method, url: route.route, handler: objectRoute(route, deps) });
  // The media routes read their multipart forms whole, up to their own, larger limit; `/v1/files`
  // streams its uploads (the root parser above).
  void v1.register(async (uploads) => {
    uploads.removeContentTypeParser('multipart/form-data');
    uploads.addContentTypeParser(
      'multipart/form-data',
      { parseAs: 'buffer', bodyLimit: maxFormBytesOf(deps) },
      (request, body, done) => {
        parseMultipart(body as Buffer, request.headers['content-type'] ?? '').then(
          (form) => done(null, form),
          () => done(invalidRequest('The multipart/form-data body could not be parsed.'), undefined),
        );
      },
    );
    for (const spec of ENDPOINT_SPECS.filter((s) => s.multipart))
      uploads.post(spec.route, modelRoute(spec, deps));
  });
}

/**
 * The `/v1` arrival hook (a callback, not an async one: no promise per request): the request's record,
 * its one close listener, and the caller's key checked against the config running now.
 */
function recordAndAuthenticate(deps: AppDeps): onRequestHookHandler {
  return (request, reply, done) => {
    const record: RequestRecord = { started: performance.now(), method: request.method };
    request.record = record;
    // The one close listener of the request: a caller who left aborts the call, then the record is written.
    reply.raw.once('close', () => {
      const raw = reply.raw;
      record.disarm?.();
      if (!raw.writableFinished) record.abort?.abort();
      const closing = {
        status: raw.writableFinished ? raw.statusCode : 499,
        latencyMs: performance.now() - record.started,
      };
      writeRecord({ metrics: deps.metrics, log: request.log }, record, closing);
    });
    // The request's one read of the running config: it keeps this snapshot to its end.
    const snapshot = deps.snapshot();
    record.pipeline = snapshot.pipeline;
    record.client = snapshot.authenticate(request.headers.authorization);
    if (record.client) record.disarm = armRequestDeadline(request, deps.requestTimeoutMs);
    done(record.client ? undefined : invalidApiKey());
  };
}

const maxBodyBytesOf = (deps: AppDeps): number => deps.snapshot().pipeline.config.limits.maxBodyBytes;

const maxFormBytesOf = (deps: AppDeps): number =>
  deps.snapshot().pipeline.config.limits.maxFormBytes ?? DEFAULT_MAX_FORM_BYTES;

function isMultipart(request: FastifyRequest): boolean {
  return /^multipart\/form-data/i.test(request.headers['content-type'] ?? '');
}

function modelRoute(spec: EndpointSpec, deps: AppDeps) {
  return (request: FastifyRequest, reply: FastifyReply) =>
    answerCall({ request, reply, deps, route: spec.route, family: spec.family }, (response) =>
      runModelCall(request.record!.pipeline!, {
        spec,
        client: request.record!.client!,
        body: request.body,
        cacheControl: request.headers['cache-control'],
        response,
        started: request.record!.started,
      }),
    );
}

function uploadRoute(deps: AppDeps) {
  return (request: FastifyRequest, reply: FastifyReply) =>
    answerCall({ request, reply, deps, route: '/v1/files', family: 'files' }, (response) => {
      const length = Number(request.headers['content-length']);
      return runFileUpload(request.record!.pipeline!, {
        client: request.record!.client!,
        // The raw stream when the body is multipart (see the parser above); anything else is refused.
        body: request.body instanceof Readable ? request.body : Readable.from([]),
        contentType: request.headers['content-type'],
        contentLength: Number.isSafeInteger(length) && length >= 0 ? length : undefined,
        response,
      });
    });
}

function objectRoute(route: ObjectRoute, deps: AppDeps) {
  return (request: FastifyRequest, reply: FastifyReply) =>
    answerCall({ request, reply, deps, route: route.route, family: route.family }, (response) =>
      runObjectCall(request.record!.pipeline!, {
        route,
        client: request.record!.client!,
        id: (request.params as { id?: string }).id,
        itemId: (request.params as { item_id?: string }).item_id,
        query: new URLSearchParams(request.url.split('?')[1] ?? ''),
        body: request.body,
        response,
      }),
    );
}

interface CallContext {
  readonly request: FastifyRequest;
  readonly reply: FastifyReply;
  readonly deps: AppDeps;
  /** The route as the request record names it. */
  readonly route: string;
  readonly family: ApiFamily;
}

/** Runs one call of the pipeline for the request, and answers its error when nothing was sent yet. */
async function answerCall(
  { request, reply, deps, route, family }: CallContext,
  run: (response: FastifyResponse) => Promise<CallResult>,
): Promise<FastifyReply> {
  const record = request.record!;
  if (!allowsFamily(record.client!, family)) {
    // As for a route the gateway does not have: a client learns nothing of families it may not use.
    return reply.code(404).send(notFound(request.method, request.url.split('?')[0]).toBody());
  }
  record.route = route;
  const controller = new AbortController();
  record.abort = controller;
  if (reply.raw.destroyed) controller.abort(); // the caller left while the body was read
  const response = new FastifyResponse(reply, {
    abort: controller,
    writeStallTimeoutMs: deps.writeStallTimeoutMs,
  });
  const call = run(response);
  record.call = call;
  const { error, headers } = await call;
  if (error === undefined || response.started || reply.sent) return reply;
  const e = toGatewayError(error, maxBodyBytesOf(deps));
  logServerError(request, error, e);
  return reply
    .code(e.status)
    .headers({ ...headers, ...e.headers })
    .send(e.toBody());
}

/**
 * A 5xx is the gateway's fault: logged with the error's name and code, never its data. A shed request
 * is not: it is counted (`Shed`) and has its request line, and an error line each would add work to an
 * overloaded loop.
 */
function logServerError(request: FastifyRequest, err: unknown, e: GatewayError): void {
  if (e.status < 500 || request.record?.shed) return;
  request.log.error({ err: { name: (err as Error).name, code: (err as { code?: string }).code } }, e.message);
}
