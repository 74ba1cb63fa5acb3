/**
 * A fake OpenAI API on 127.0.0.1 speaking the real wire format: chat completions (JSON and SSE, with the
 * usage chunk), the Responses API (JSON, typed SSE events, stored and background responses, function
 * calls, structured outputs), Conversations, legacy completions, embeddings (float and base64), models,
 * moderations, Files (multipart uploads read as they arrive), Batches and the Agents SDK's trace ingest; a body parameter the real API does not accept gets its 400. Tests script failures with
 * `enqueue` (429 with Retry-After, 5xx, delays, slow or cut streams, hangs), reject keys with
 * `rejectKey`, read `requests` and `aborted`, and add endpoints with `route`.
 *
 *   const fake = new FakeOpenAI();
 *   const { url } = await fake.start();        // http://127.0.0.1:PORT/v1
 *   fake.enqueue({ status: 429, retryAfter: '1' });
 *   ...
 *   await fake.stop();
 */
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { audioEndpoints } from './audio';
import { chatEndpoints } from './chat';
import { completionEndpoints } from './completions';
import { ConversationStore } from './conversations';
import { BatchStore } from './batches';
import { embeddingEndpoints } from './embeddings';
import { FileStore } from './files';
import { imageEndpoints } from './images';
import { isMultipart, parseBody, parseForm, readBody, sendJson, sleep } from './http';
import { ResponsesStore } from './responses';
import { TraceStore, type IngestedTraceItem } from './traces';
import type {
  BilledCall,
  Endpoint,
  EndpointContext,
  FakeBehaviour,
  RecordedRequest,
  RouteContext,
  RouteHandler,
  ScriptedResponse,
} from './types';
import { errorBody } from './wire';

export type {
  BilledCall,
  BilledEndpoint,
  FakeBehaviour,
  RecordedRequest,
  RouteContext,
  RouteHandler,
  ScriptedFunctionCall,
  ScriptedResponse,
} from './types';
export type { ScriptedUsage } from './usage';
export type { IngestedTraceItem } from './traces';

export interface StartOptions {
  /** @default 0 (a free port) */
  readonly port?: number;
  /** @default '127.0.0.1' */
  readonly host?: string;
}

export const DEFAULT_BEHAVIOUR: FakeBehaviour = {
  text: 'Hello from the fake OpenAI upstream.',
  chunks: 4,
  chunkDelayMs: 0,
  delayMs: 0,
  embeddingDimensions: 8,
  models: ['gpt-4o-mini', 'gpt-4o', 'text-embedding-3-small', 'omni-moderation-latest'],
  moderationFlagWords: ['FLAG_ME'],
  record: true,
  backgroundMs: 50,
  reasoningTokens: 64,
  batchMs: 50,
  imageBytes: 68,
};

export class FakeOpenAI {
  /** Every request received, oldest first (when `behaviour.record`). */
  readonly requests: RecordedRequest[] = [];
  /** Requests whose client went away before the response finished. */
  aborted = 0;
  /** Requests answered or in progress, recorded or not. */
  received = 0;
  /**
   * What OpenAI bills: the usage (in chat names) of every chat completion, completion and foreground
   * response it started generating, whether or not the client stayed to read it (a client that leaves
   * during the model's delay is billed all the same), and of every background response that finished.
   * `endpoint` tells which API billed it.
   */
  readonly billed: BilledCall[] = [];
  behaviour: FakeBehaviour;

  private readonly queue: ScriptedResponse[] = [];
  private readonly rejectedKeys = new Set<string>();
  private readonly routes: Array<{ method: string; path: string | RegExp; handler: RouteHandler }> = [];
  private readonly sockets = new Set<Socket>();
  private readonly waiters = new Set<() => void>();
  private server?: Server;
  private baseUrl?: string;
  private readonly conversations = new ConversationStore();
  private readonly responses = new ResponsesStore(this.conversations);
  /** Stored files and every upload as it arrived. */
  readonly files = new FileStore();
  /** Batches, run on the fake's clock of `behaviour.batchMs` steps. */
  readonly batches = new BatchStore(
    this.files,
    (call) => this.billed.push(call),
    () => this.behaviour,
  );
  private readonly traces = new TraceStore();
  /** The built-in endpoints, first match wins (custom `route`s are tried before them). */
  private readonly endpoints: readonly Endpoint[] = [
    ...chatEndpoints,
    ...this.responses.endpoints,
    ...this.conversations.endpoints,
    ...completionEndpoints,
    ...embeddingEndpoints,
    ...this.files.endpoints,
    ...this.batches.endpoints,
    ...this.traces.endpoints,
    ...imageEndpoints,
    ...audioEndpoints,
  ];

  constructor(behaviour: Partial<FakeBehaviour> = {}) {
    this.behaviour = { ...DEFAULT_BEHAVIOUR, ...behaviour };
  }

  /** Base URL including `/v1`. Throws before `start()`. */
  get url(): string {
    if (!this.baseUrl) throw new Error('FakeOpenAI is not started');
    return this.baseUrl;
  }

  async start(options: StartOptions = {}): Promise<{ url: string }> {
    const server = createServer((req, res) => void this.handle(req, res));
    server.keepAliveTimeout = 65_000;
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
    });
    this.server = server;
    const { port, address } = server.address() as AddressInfo;
    this.baseUrl = `http://${address}:${port}/v1`;
    return { url: this.baseUrl };
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    this.responses.clear();
    this.batches.clear();
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Queues scripted answers, used in order by the next matching requests. */
  enqueue(...responses: ScriptedResponse[]): this {
    this.queue.push(...responses);
    return this;
  }

  /** Scripted answers not used yet. */
  get pending(): number {
    return this.queue.length;
  }

  /** Answers 401 `invalid_api_key` to this bearer token (a revoked or rotated key). */
  rejectKey(key: string): this {
    this.rejectedKeys.add(key);
    return this;
  }

  acceptKey(key: string): this {
    this.rejectedKeys.delete(key);
    return this;
  }

  /** Adds (or, registered later, overrides) an endpoint. `path` is the full path, e.g. `/v1/organization/costs`. */
  route(method: string, path: string | RegExp, handler: RouteHandler): this {
    this.routes.unshift({ method: method.toUpperCase(), path, handler });
    return this;
  }

  /**
   * Clears requests, counters, the queue, rejected keys, behaviour overrides, stored responses (running
   * background ones stop), conversations and ingested traces. Custom routes stay.
   */
  reset(behaviour: Partial<FakeBehaviour> = {}): void {
    this.responses.clear();
    this.conversations.clear();
    this.batches.clear();
    this.files.clear();
    this.traces.clear();
    this.requests.length = 0;
    this.queue.length = 0;
    this.rejectedKeys.clear();
    this.aborted = 0;
    this.received = 0;
    this.billed.length = 0;
    this.behaviour = { ...DEFAULT_BEHAVIOUR, ...behaviour };
  }

  /** Every trace and span ingested (`POST /v1/traces/ingest`), oldest first, with the key that sent it. */
  get traceItems(): readonly IngestedTraceItem[] {
    return this.traces.items;
  }

  /** Requests to one path. */
  requestsTo(path: string): RecordedRequest[] {
    return this.requests.filter((r) => r.path === path);
  }

  /** Resolves when `condition` holds (checked after every request event), rejects after `timeoutMs`. */
  async waitFor(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
    if (condition()) return;
    await new Promise<void>((resolve, reject) => {
      const check = () => {
        if (!condition()) return;
        cleanup();
        resolve();
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`FakeOpenAI.waitFor: condition not met within ${timeoutMs} ms`));
      }, timeoutMs);
      const poll = setInterval(check, 10);
      const cleanup = () => {
        clearTimeout(timer);
        clearInterval(poll);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
    });
  }

  private notify(): void {
    for (const w of [...this.waiters]) w();
  }

  private takeScripted(path: string): ScriptedResponse | undefined {
    const i = this.queue.findIndex((s) => s.path === undefined || s.path === path);
    return i === -1 ? undefined : this.queue.splice(i, 1)[0];
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.received++;
    let finished = false;
    let cutByUs = false;
    res.on('finish', () => (finished = true));
    res.on('close', () => {
      if (!finished && !cutByUs) this.aborted++;
      this.notify();
    });

    const url = new URL(req.url ?? '/', 'http://fake');
    // A multipart upload to a built-in endpoint is read by the endpoint as it arrives.
    const streamed =
      String(req.headers['content-type'] ?? '').startsWith('multipart/form-data') &&
      !this.routes.some((r) => r.method === req.method && pathMatches(r.path, url.pathname)) &&
      this.endpoints.some(
        (e) => e.streamsBody && e.method === req.method && pathMatches(e.path, url.pathname),
      );
    const raw = streamed ? Buffer.alloc(0) : await readBody(req);
    const auth = req.headers.authorization;
    const apiKey = typeof auth === 'string' && auth.startsWith('Bearer ') ? auth.slice(7) : undefined;
    const request: RecordedRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      headers: { ...req.headers },
      body: parseBody(raw.toString('utf8')),
      raw,
      ...(isMultipart(req) && !streamed
        ? { form: await parseForm(raw, String(req.headers['content-type'])) }
        : {}),
      ...(apiKey === undefined ? {} : { apiKey }),
    };
    if (this.behaviour.record) this.requests.push(request);
    this.notify();

    const ctx: RouteContext = {
      req,
      res,
      request,
      json: (status, body, headers) => sendJson(res, status, body, headers),
      error: (status, message, type = 'invalid_request_error', code = null) =>
        sendJson(res, status, errorBody(message, type, code)),
    };

    if (!apiKey) {
      return ctx.error(401, 'You did not provide an API key.', 'invalid_request_error', null);
    }
    if (this.rejectedKeys.has(apiKey)) {
      return ctx.error(
        401,
        `Incorrect API key provided: ${apiKey.slice(0, 3)}***${apiKey.slice(-4)}.`,
        'invalid_request_error',
        'invalid_api_key',
      );
    }

    const scripted = this.takeScripted(request.path);
    if (scripted?.hang) return; // the socket stays open until the client aborts or stop() destroys it
    const delayMs = scripted?.delayMs ?? this.behaviour.delayMs;
    if (delayMs > 0) await sleep(delayMs);
    const failure =
      scripted &&
      (scripted.status !== undefined || scripted.body !== undefined || scripted.rawBody !== undefined);
    if (failure) {
      if (res.destroyed) return;
      const status = scripted.status ?? 200;
      const headers: Record<string, string> = { ...scripted.headers };
      if (scripted.retryAfter !== undefined) headers['retry-after'] = scripted.retryAfter;
      if (scripted.rawBody !== undefined) {
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(scripted.rawBody);
        return;
      }
      if (scripted.body !== undefined || status >= 300) {
        return sendJson(res, status, scripted.body ?? defaultErrorFor(status), headers);
      }
    }

    if (!res.destroyed) {
      for (const route of this.routes) {
        if (route.method === request.method && pathMatches(route.path, request.path)) {
          try {
            await route.handler(ctx);
          } catch (err) {
            if (!res.headersSent)
              ctx.error(500, `fake route failed: ${(err as Error).message}`, 'server_error');
          }
          return;
        }
      }
    }

    for (const endpoint of this.endpoints) {
      const params = matchPath(endpoint, request);
      if (!params) continue;
      // A client gone during the delay: only a call the model already started runs on, to be billed.
      if (res.destroyed && !endpoint.billsWhenAbandoned) return;
      const endpointCtx: EndpointContext = {
        req,
        request,
        res,
        scripted: scripted ?? {},
        behaviour: this.behaviour,
        params,
        bill: (call) => this.billed.push(call),
        markCut: () => (cutByUs = true),
      };
      return endpoint.handle(endpointCtx);
    }
    if (res.destroyed) return;
    return ctx.error(404, `Invalid URL (${request.method} ${request.path})`, 'invalid_request_error', null);
  }
}

function pathMatches(pattern: string | RegExp, path: string): boolean {
  return typeof pattern === 'string' ? pattern === path : pattern.test(path);
}

function matchPath(endpoint: Endpoint, request: RecordedRequest): string[] | undefined {
  if (endpoint.method !== request.method) return undefined;
  if (typeof endpoint.path === 'string') return endpoint.path === request.path ? [] : undefined;
  const match = endpoint.path.exec(request.path);
  return match ? match.slice(1).map(decodeURIComponent) : undefined;
}

/** Starts a fake on a free port (or `options.port`). */
export async function startFakeOpenAI(
  behaviour: Partial<FakeBehaviour> = {},
  options: StartOptions = {},
): Promise<FakeOpenAI> {
  const fake = new FakeOpenAI(behaviour);
  await fake.start(options);
  return fake;
}

function defaultErrorFor(status: number) {
  if (status === 429) {
    return errorBody(
      'Rate limit reached for requests. Please try again in 1s.',
      'requests',
      'rate_limit_exceeded',
      null,
    );
  }
  if (status === 401)
    return errorBody('Incorrect API key provided.', 'invalid_request_error', 'invalid_api_key');
  if (status >= 500) {
    return errorBody(
      'The server had an error while processing your request. Sorry about that!',
      'server_error',
      null,
    );
  }
  return errorBody(`Scripted error ${status}`, 'invalid_request_error', null);
}
