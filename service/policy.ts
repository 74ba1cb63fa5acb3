/**
 * Request policy: validates a chat or embeddings body, resolves the model alias, applies the caps and
 * defaults of the config (the guide's "Improving latencies": max_tokens, n, stop), sets the per-client
 * safety identifier, and estimates the tokens to reserve. Nothing that fails here reaches upstream.
 */
import { createHash } from 'node:crypto';
import { resolveModel, type ClientConfig, type GatewayConfig } from '../runtime/gateway-config';
import { invalidRequest, modelNotAllowed, modelNotFound } from './errors';

export type Endpoint = 'chat' | 'embeddings';

/** Upstream paths, relative to the base URL (which ends in `/v1`). */
export const UpstreamPath: Readonly<Record<Endpoint, string>> = {
  chat: '/chat/completions',
  embeddings: '/embeddings',
};

/** A request that passed policy, ready for admission, cache and upstream. */
export interface PreparedRequest {
  readonly endpoint: Endpoint;
  /** The model or alias the caller named. */
  readonly requestedModel: string;
  /** The real model sent upstream and priced. */
  readonly model: string;
  /** The body to send upstream (model resolved, caps and defaults applied, safety identifier set). */
  readonly body: Record<string, unknown>;
  readonly stream: boolean;
  /** The caller asked for the usage chunk (`stream_options.include_usage`). */
  readonly callerWantsUsage: boolean;
  /** Deliberate over-estimate of prompt tokens, corrected at settlement. */
  readonly promptTokens: number;
  /** Most completion tokens the request can produce (max tokens x n). */
  readonly completionTokens: number;
  /** The same body gives the same answer (temperature 0 chat, or embeddings): cacheable by default. */
  readonly deterministic: boolean;
}

/** Per-message framing tokens in the prompt estimate. */
const MESSAGE_OVERHEAD_TOKENS = 4;
/** Bytes per token in the estimate: real text averages about 4, so 3 over-estimates on purpose. */
const BYTES_PER_TOKEN = 3;

type Body = Record<string, unknown>;

const isObject = (v: unknown): v is Body => typeof v === 'object' && v !== null && !Array.isArray(v);
const isPositiveInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 1;

export class Policy {
  private readonly allowed = new Map<string, ReadonlySet<string> | undefined>();

  constructor(private readonly config: GatewayConfig) {
    for (const client of config.clients) {
      this.allowed.set(client.id, client.models ? new Set(client.models) : undefined);
    }
  }

  /** Model names and aliases `client` may call (for `GET /v1/models`). */
  modelsFor(client: ClientConfig): string[] {
    const all = [...Object.keys(this.config.models), ...Object.keys(this.config.aliases)];
    return all.filter((name) => this.isAllowed(client, name, resolveModel(this.config, name) ?? name));
  }

  prepareChat(client: ClientConfig, raw: unknown): PreparedRequest {
    const body = this.objectBody(raw);
    const { requestedModel, model } = this.model(client, body);
    const messages = body.messages;
    if (!Array.isArray(messages) || messages.length === 0) {
      throw invalidRequest("'messages' must be a non-empty array of messages.", 'messages');
    }
    let promptBytes = 0;
    for (let i = 0; i < messages.length; i++) {
      const m = messages[i];
      if (!isObject(m) || typeof m.role !== 'string') {
        throw invalidRequest(`'messages[${i}]' must be an object with a string 'role'.`, `messages[${i}]`);
      }
      promptBytes += contentBytes(m.content) + MESSAGE_OVERHEAD_TOKENS * BYTES_PER_TOKEN;
    }
    if (body.stream !== undefined && typeof body.stream !== 'boolean') {
      throw invalidRequest("'stream' must be a boolean.", 'stream');
    }
    const stream = body.stream === true;
    if (body.stream_options !== undefined && body.stream_options !== null) {
      if (!stream)
        throw invalidRequest("'stream_options' is only allowed when 'stream' is true.", 'stream_options');
      if (!isObject(body.stream_options))
        throw invalidRequest("'stream_options' must be an object.", 'stream_options');
    }
    const limits = this.config.limits;
    const out: Body = { ...body, model };

    let maxTokens: number | undefined;
    for (const param of ['max_completion_tokens', 'max_tokens'] as const) {
      const v = body[param];
      if (v === undefined || v === null) continue;
      if (!isPositiveInt(v)) throw invalidRequest(`'${param}' must be a positive integer.`, param);
      if (v > limits.maxTokens) {
        throw invalidRequest(`'${param}' is ${v}; this gateway allows at most ${limits.maxTokens}.`, param);
      }
      maxTokens = Math.max(maxTokens ?? 0, v);
    }
    if (maxTokens === undefined) {
      maxTokens = limits.defaultMaxTokens;
      out.max_completion_tokens = maxTokens;
    }

    let n = 1;
    if (body.n !== undefined && body.n !== null) {
      if (!isPositiveInt(body.n)) throw invalidRequest("'n' must be a positive integer.", 'n');
      if (body.n > limits.maxN)
        throw invalidRequest(`'n' is ${body.n}; this gateway allows at most ${limits.maxN}.`, 'n');
      n = body.n;
    }

    if (body.stop !== undefined && body.stop !== null) {
      const stops = typeof body.stop === 'string' ? [body.stop] : body.stop;
      if (!Array.isArray(stops) || !stops.every((s) => typeof s === 'string')) {
        throw invalidRequest("'stop' must be a string or an array of strings.", 'stop');
      }
      if (stops.length > limits.maxStopSequences) {
        throw invalidRequest(
          `'stop' has ${stops.length} sequences; this gateway allows at most ${limits.maxStopSequences}.`,
          'stop',
        );
      }
    }
    if (body.temperature !== undefined && body.temperature !== null && typeof body.temperature !== 'number') {
      throw invalidRequest("'temperature' must be a number.", 'temperature');
    }

    out.safety_identifier = safetyIdentifier(client.id, body.safety_identifier ?? body.user);
    delete out.user;

    const streamOptions = isObject(body.stream_options) ? body.stream_options : undefined;
    return {
      endpoint: 'chat',
      requestedModel,
      model,
      body: out,
      stream,
      callerWantsUsage: streamOptions?.include_usage === true,
      promptTokens: Math.ceil(promptBytes / BYTES_PER_TOKEN) + 3,
      completionTokens: maxTokens * n,
      deterministic: body.temperature === 0,
    };
  }

  prepareEmbeddings(client: ClientConfig, raw: unknown): PreparedRequest {
    const body = this.objectBody(raw);
    const { requestedModel, model } = this.model(client, body);
    const input = body.input;
    const valid =
      typeof input === 'string' ||
      (Array.isArray(input) &&
        input.length > 0 &&
        input.every((x) => typeof x === 'string' || typeof x === 'number' || Array.isArray(x)));
    if (!valid || input === '') {
      throw invalidRequest("'input' must be a non-empty string or array.", 'input');
    }
    const out: Body = { ...body, model, user: safetyIdentifier(client.id, body.user) };
    return {
      endpoint: 'embeddings',
      requestedModel,
      model,
      body: out,
      stream: false,
      callerWantsUsage: false,
      promptTokens: embeddingTokens(input),
      completionTokens: 0,
      deterministic: true,
    };
  }

  private objectBody(raw: unknown): Body {
    if (!isObject(raw)) throw invalidRequest('The request body must be a JSON object.');
    return raw;
  }

  private model(client: ClientConfig, body: Body): { requestedModel: string; model: string } {
    const requestedModel = body.model;
    if (typeof requestedModel !== 'string' || requestedModel.length === 0) {
      throw invalidRequest("'model' must be a non-empty string.", 'model');
    }
    const model = resolveModel(this.config, requestedModel);
    if (model === undefined) throw modelNotFound(requestedModel);
    if (!this.isAllowed(client, requestedModel, model)) throw modelNotAllowed(requestedModel);
    return { requestedModel, model };
  }

  private isAllowed(client: ClientConfig, requested: string, model: string): boolean {
    const allowed = this.allowed.get(client.id);
    return allowed === undefined || allowed.has(requested) || allowed.has(model);
  }
}

/**
 * A stable identifier per client (and per end user, when the caller names one) that OpenAI can use to
 * attribute abuse, without the raw end-user ID leaving the company.
 */
export function safetyIdentifier(clientId: string, endUser: unknown): string {
  if (typeof endUser !== 'string' || endUser.length === 0) return clientId;
  const digest = createHash('sha256').update(clientId).update('\0').update(endUser).digest('base64url');
  return `${clientId}:${digest.slice(0, 22)}`;
}

function contentBytes(content: unknown): number {
  if (typeof content === 'string') return Buffer.byteLength(content);
  if (content === undefined || content === null) return 0;
  return Buffer.byteLength(JSON.stringify(content));
}

function embeddingTokens(input: unknown): number {
  if (typeof input === 'string') return Math.ceil(Buffer.byteLength(input) / BYTES_PER_TOKEN) || 1;
  let tokens = 0;
  for (const item of input as unknown[]) {
    if (typeof item === 'string') tokens += Math.ceil(Buffer.byteLength(item) / BYTES_PER_TOKEN) || 1;
    else if (typeof item === 'number') tokens += 1;
    else tokens += (item as unknown[]).length;
  }
  return tokens;
}

/** The text of the caller's messages, for the moderation pre-check. */
export function moderationInput(body: Record<string, unknown>): string {
  const parts: string[] = [];
  for (const m of body.messages as Array<Record<string, unknown>>) {
    if (typeof m.content === 'string') parts.push(m.content);
    else if (Array.isArray(m.content)) {
      for (const p of m.content) if (isObject(p) && typeof p.text === 'string') parts.push(p.text);
    }
  }
  return parts.join('\n');
}
