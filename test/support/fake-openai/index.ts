/**
 * A fake OpenAI API on 127.0.0.1 speaking the real wire format: chat completions (JSON and SSE, with the
 * usage chunk), embeddings (float and base64), models and moderations. Tests script failures with
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
import {
  chatChunk,
  chatCompletion,
  countTokens,
  deltaChoice,
  embeddingBase64,
  embeddingVector,
  errorBody,
  moderationResult,
  newId,
  nowSeconds,
  promptTokensOf,
  splitText,
  usageOf,
  type Usage,
} from './wire';

/** How the fake answers when no scripted response applies. */
export interface FakeBehaviour {
  /** Completion text of every chat answer. @default 'Hello from the fake OpenAI upstream.' */
  readonly text: string;
  /** Content chunks in a streamed answer. @default 4 */
  readonly chunks: number;
  /** Pause between stream chunks, ms. @default 0 */
  readonly chunkDelayMs: number;
  /** Pause before response headers, ms. @default 0 */
  readonly delayMs: number;
  /** Embedding dimensions. @default 8 */
  readonly embeddingDimensions: number;
  /** Models `GET /v1/models` lists. */
  readonly models: readonly string[];
  /** Moderation flags any input containing one of these strings. @default ['FLAG_ME'] */
  readonly moderationFlagWords: readonly string[];
  /** Keep every request in `requests` (turn off for benchmarks). @default true */
  readonly record: boolean;
}

/** One scripted answer, used by the next matching request instead of the default behaviour. */
export interface ScriptedResponse {
  /** Only a request to this path (e.g. `/v1/embeddings`) takes this answer. @default any path */
  readonly path?: string;
  /** HTTP status. A non-2xx status sends an OpenAI error body unless `body` is given. @default 200 */
  readonly status?: number;
  /** `Retry-After` header value (seconds). */
  readonly retryAfter?: string;
  /** Extra response headers. */
  readonly headers?: Readonly<Record<string, string>>;
  /** JSON body to send as is, instead of the generated one. */
  readonly body?: unknown;
  /** Raw body text to send as is (e.g. invalid JSON). */
  readonly rawBody?: string;
  /** Pause before response headers, ms. */
  readonly delayMs?: number;
  /** Never answer (until the client goes away or the fake stops). */
  readonly hang?: boolean;
  /** Completion text for this answer. */
  readonly text?: string;
  /** Content chunks of a streamed answer. */
  readonly chunks?: number;
  /** Pause between stream chunks, ms. */
  readonly chunkDelayMs?: number;
  /** Destroy the socket after this many content chunks of a stream (a cut stream; no [DONE]). */
  readonly cutAfterChunks?: number;
  /** Overrides the reported usage (prompt and completion tokens). */
  readonly usage?: { readonly prompt_tokens: number; readonly completion_tokens: number };
}

/** A request as the fake received it. */
export interface RecordedRequest {
  readonly method: string;
  /** Path without query, e.g. `/v1/chat/completions`. */
  readonly path: string;
  readonly query: URLSearchParams;
  /** Lower-cased header names. */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** Parsed JSON body, or the raw text when it is not JSON, or undefined when empty. */
  readonly body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  /** The bearer token sent, if any. */
  readonly apiKey?: string;
}

/** What a custom route handler gets. */
export interface RouteContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly request: RecordedRequest;
  /** Sends a JSON response. */
  json(status: number, body: unknown, headers?: Readonly<Record<string, string>>): void;
  /** Sends an OpenAI-shaped error. */
  error(status: number, message: string, type?: string, code?: string | null): void;
}

export type RouteHandler = (ctx: RouteContext) => void | Promise<void>;

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
};

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class FakeOpenAI {
  /** Every request received, oldest first (when `behaviour.record`). */
  readonly requests: RecordedRequest[] = [];
  /** Requests whose client went away before the response finished. */
  aborted = 0;
  /** Requests answered or in progress, recorded or not. */
  received = 0;
  /**
   * What OpenAI bills: the usage of every chat completion it started generating, whether or not the
   * client stayed to read it (a client that leaves during the model's delay is billed all the same).
   */
  readonly billed: Array<{ readonly model: string; readonly usage: Usage }> = [];
  behaviour: FakeBehaviour;

  private readonly queue: ScriptedResponse[] = [];
  private readonly rejectedKeys = new Set<string>();
  private readonly routes: Array<{ method: string; path: string | RegExp; handler: RouteHandler }> = [];
  private readonly sockets = new Set<Socket>();
  private readonly waiters = new Set<() => void>();
  private server?: Server;
  private baseUrl?: string;

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

  /** Clears requests, counters, the queue, rejected keys and behaviour overrides (custom routes stay). */
  reset(behaviour: Partial<FakeBehaviour> = {}): void {
    this.requests.length = 0;
    this.queue.length = 0;
    this.rejectedKeys.clear();
    this.aborted = 0;
    this.received = 0;
    this.billed.length = 0;
    this.behaviour = { ...DEFAULT_BEHAVIOUR, ...behaviour };
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

    const raw = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://fake');
    const auth = req.headers.authorization;
    const apiKey = typeof auth === 'string' && auth.startsWith('Bearer ') ? auth.slice(7) : undefined;
    const request: RecordedRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      headers: { ...req.headers },
      body: parseBody(raw),
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
    if (res.destroyed) {
      if (request.path === '/v1/chat/completions' && !scripted?.status)
        this.billChat(request, scripted ?? {});
      return;
    }

    if (
      scripted &&
      (scripted.status !== undefined || scripted.body !== undefined || scripted.rawBody !== undefined)
    ) {
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

    for (const route of this.routes) {
      const matches =
        typeof route.path === 'string' ? route.path === request.path : route.path.test(request.path);
      if (route.method === request.method && matches) {
        try {
          await route.handler(ctx);
        } catch (err) {
          if (!res.headersSent)
            ctx.error(500, `fake route failed: ${(err as Error).message}`, 'server_error');
        }
        return;
      }
    }

    const key = `${request.method} ${request.path}`;
    switch (key) {
      case 'POST /v1/chat/completions':
        return this.chat(request, res, scripted ?? {}, () => (cutByUs = true));
      case 'POST /v1/embeddings':
        return this.embeddings(request, res);
      case 'GET /v1/models':
        return sendJson(res, 200, {
          object: 'list',
          data: this.behaviour.models.map((id) => ({
            id,
            object: 'model',
            created: 1_700_000_000,
            owned_by: 'system',
          })),
        });
      case 'POST /v1/moderations':
        return this.moderations(request, res);
      default:
        return ctx.error(
          404,
          `Invalid URL (${request.method} ${request.path})`,
          'invalid_request_error',
          null,
        );
    }
  }

  /** The usage of a chat completion as the model would produce it, recorded in `billed`. */
  private billChat(
    request: RecordedRequest,
    scripted: ScriptedResponse,
  ): { usage: Usage; finishReason: 'stop' | 'length' } {
    const body = request.body as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    const n: number = typeof body.n === 'number' ? body.n : 1;
    const maxTokens: number | undefined = body.max_completion_tokens ?? body.max_tokens;
    let completionTokens = countTokens(scripted.text ?? this.behaviour.text);
    let finishReason: 'stop' | 'length' = 'stop';
    if (maxTokens !== undefined && completionTokens > maxTokens) {
      completionTokens = maxTokens;
      finishReason = 'length';
    }
    const usage = usageOf(
      scripted.usage?.prompt_tokens ?? promptTokensOf(body),
      scripted.usage?.completion_tokens ?? completionTokens * n,
    );
    this.billed.push({ model: String(body.model), usage });
    return { usage, finishReason };
  }

  private async chat(
    request: RecordedRequest,
    res: ServerResponse,
    scripted: ScriptedResponse,
    markCut: () => void,
  ): Promise<void> {
    const body = request.body as Record<string, any> | undefined; // eslint-disable-line @typescript-eslint/no-explicit-any
    if (
      !body ||
      typeof body !== 'object' ||
      typeof body.model !== 'string' ||
      !Array.isArray(body.messages)
    ) {
      return sendJson(
        res,
        400,
        errorBody("Missing required parameter: 'messages'.", 'invalid_request_error', null),
      );
    }
    const model: string = body.model;
    const n: number = typeof body.n === 'number' ? body.n : 1;
    const text = scripted.text ?? this.behaviour.text;
    const { usage, finishReason } = this.billChat(request, scripted);
    const id = newId('chatcmpl');

    if (body.stream !== true) {
      return sendJson(res, 200, chatCompletion({ id, model, text, n, usage, finishReason }));
    }

    const includeUsage = body.stream_options?.include_usage === true;
    const created = nowSeconds();
    const chunkDelayMs = scripted.chunkDelayMs ?? this.behaviour.chunkDelayMs;
    const pieces = splitText(text, scripted.chunks ?? this.behaviour.chunks);
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-request-id': newId('req'),
      'openai-processing-ms': '12',
    });
    const send = (choices: unknown[], withUsage?: typeof usage) =>
      res.write(
        `data: ${JSON.stringify(chatChunk({ id, created, model, choices, includeUsage, usage: withUsage }))}\n\n`,
      );

    for (let i = 0; i < n; i++) send([deltaChoice(i, { role: 'assistant', content: '', refusal: null })]);
    for (let c = 0; c < pieces.length; c++) {
      if (chunkDelayMs > 0) await sleep(chunkDelayMs);
      if (res.destroyed) return;
      if (scripted.cutAfterChunks !== undefined && c >= scripted.cutAfterChunks) {
        markCut();
        // Let what was written reach the client first, then drop the connection without [DONE].
        await new Promise<void>((resolve) => res.write('', () => resolve()));
        res.socket?.destroy();
        return;
      }
      for (let i = 0; i < n; i++) send([deltaChoice(i, { content: pieces[c] })]);
    }
    if (chunkDelayMs > 0) await sleep(chunkDelayMs);
    if (res.destroyed) return;
    for (let i = 0; i < n; i++) send([deltaChoice(i, {}, finishReason)]);
    if (includeUsage) send([], usage);
    res.end('data: [DONE]\n\n');
  }

  private embeddings(request: RecordedRequest, res: ServerResponse): void {
    const body = request.body as Record<string, unknown> | undefined;
    if (!body || typeof body.model !== 'string' || body.input === undefined) {
      return sendJson(
        res,
        400,
        errorBody("Missing required parameter: 'input'.", 'invalid_request_error', null),
      );
    }
    const inputs = Array.isArray(body.input) ? body.input : [body.input];
    const dims = typeof body.dimensions === 'number' ? body.dimensions : this.behaviour.embeddingDimensions;
    let tokens = 0;
    const data = inputs.map((input, index) => {
      const text = typeof input === 'string' ? input : JSON.stringify(input);
      tokens += countTokens(text);
      const vector = embeddingVector(text, dims);
      return {
        object: 'embedding',
        index,
        embedding: body.encoding_format === 'base64' ? embeddingBase64(vector) : vector,
      };
    });
    sendJson(res, 200, {
      object: 'list',
      data,
      model: body.model,
      usage: { prompt_tokens: tokens, total_tokens: tokens },
    });
  }

  private moderations(request: RecordedRequest, res: ServerResponse): void {
    const body = request.body as Record<string, unknown> | undefined;
    const inputs = Array.isArray(body?.input) ? body.input : [body?.input ?? ''];
    const results = inputs.map((input) => {
      const text = typeof input === 'string' ? input : JSON.stringify(input);
      return moderationResult(this.behaviour.moderationFlagWords.some((w) => text.includes(w)));
    });
    sendJson(res, 200, { id: newId('modr'), model: body?.model ?? 'omni-moderation-latest', results });
  }
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

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Readonly<Record<string, string>> = {},
) {
  if (res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'x-request-id': newId('req'),
    'openai-processing-ms': '12',
    ...headers,
  });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

function parseBody(raw: string): unknown {
  if (raw.length === 0) return undefined;
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}
