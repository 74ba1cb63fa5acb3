/**
 * The gateway configuration document: who may call, which models they may use, what a token costs,
 * and the limits and budgets that apply. The gateway reads it at start (`GATEWAY_CONFIG` path,
 * `GATEWAY_CONFIG_JSON` or AWS AppConfig) and again on every reload (service/main/live-config.ts); the CDK app builds the same document from the stage config and validates it
 * at synth time with this same function, so a bad document fails `cdk synth`, not a deployment.
 */
import { isJsonObject, type JsonObject } from './json';

/** Price of one model in US dollars per million tokens. */
export interface ModelPrice {
  /** Price of one million prompt (input) tokens. */
  readonly inputUsdPer1M: number;
  /** Price of one million completion (output) tokens. Embedding models use 0. */
  readonly outputUsdPer1M: number;
  /**
   * Price of one million prompt tokens served from OpenAI's prompt cache
   * (`usage.prompt_tokens_details.cached_tokens`).
   * @default inputUsdPer1M
   */
  readonly cachedInputUsdPer1M?: number;
  /**
   * Most input tokens one image can bill on this model, at any size and detail (OpenAI's image-token
   * rules: tiles for the gpt-4o family, patches with a multiplier for newer ones). The prompt estimate
   * counts every image at this figure, since its size is not known before upstream reads it.
   * @default DEFAULT_IMAGE_TOKENS, the largest of the current rules (gpt-4o-mini's 8 high-detail tiles)
   */
  readonly imageTokens?: number;
  /**
   * Most input tokens one file input (a PDF: its text plus an image of every page) can bill. Its page
   * count is not known before upstream reads it, so the estimate counts every file at this figure.
   * @default DEFAULT_FILE_TOKENS, the largest context window of a current model (no prompt bills more)
   */
  readonly fileTokens?: number;
  /**
   * Price of one million audio input tokens (`prompt_tokens_details.audio_tokens`). A model without
   * audio prices is not sent audio: a call with audio input or output is refused with 400.
   * @default none (audio refused)
   */
  readonly audioInputUsdPer1M?: number;
  /**
   * Price of one million audio output tokens (`completion_tokens_details.audio_tokens`).
   * @default none (audio refused)
   */
  readonly audioOutputUsdPer1M?: number;
  /**
   * Price of one million prompt tokens written to OpenAI's prompt cache (`cache_write_tokens` in
   * `input_tokens_details` / `prompt_tokens_details`, a share of the prompt). OpenAI bills writes from
   * the GPT-5.6 family on (1.25x input for the 30-minute retention); earlier models write for free.
   * When it is dearer than input, a call is reserved as if its whole prompt were written.
   * @default inputUsdPer1M (writes cost what any uncached input token costs)
   */
  readonly cacheWriteUsdPer1M?: number;
  /**
   * OpenAI's long-context rule: a request with more input tokens than `aboveInputTokens` bills all of
   * its tokens at `inputFactor` (input, cached input, cache writes) and `outputFactor` (output).
   * @default none (one rate at any length)
   */
  readonly longContext?: LongContextPricing;
  /**
   * What each OpenAI service tier costs on this model against its standard rates; OpenAI prices a tier
   * as one factor on every rate of a model (e.g. priority 2.5x on gpt-5.5, 1.75x on gpt-4.1).
   * @default flex 1 (standard: metering flex at standard over-charges, never under), priority
   *   PRIORITY_PRICE_FACTOR (the dearest priority factor of a current model)
   */
  readonly serviceTierFactors?: ServiceTierFactors;
  /**
   * Price of one million image input tokens of an image model (`input_tokens_details.image_tokens`:
   * the images given to an edit).
   * @default inputUsdPer1M
   */
  readonly imageInputUsdPer1M?: number;
  /**
   * Price of one million image output tokens of an image model (`output_tokens_details.image_tokens`,
   * or all of `output_tokens` when upstream reports no details).
   * @default outputUsdPer1M
   */
  readonly imageOutputUsdPer1M?: number;
  /**
   * Most output tokens one generated image of this model bills, at its largest size and highest
   * quality (gpt-image-1: 6,240 at `high` 1024x1536). Set on the models billed by tokens that may
   * generate images: `n` images reserve `n` times this, plus PARTIAL_IMAGE_TOKENS per partial image.
   * @default none (the model does not generate images on this gateway unless it has `imageUsd`)
   */
  readonly imageOutputTokens?: number;
  /**
   * Price of one image by `quality:size` (e.g. `hd:1024x1792`), for models billed by the image
   * (dall-e-2, dall-e-3). A size and quality not listed is refused with 400 naming the param.
   * @default none (the model is billed by tokens)
   */
  readonly imageUsd?: Readonly<Record<string, number>>;
  /** Price of one million input characters, for speech models billed by the character (tts-1). @default none */
  readonly usdPer1MCharacters?: number;
  /** Price of one minute of audio, for transcription models billed by the minute (whisper-1). @default none */
  readonly usdPerMinute?: number;
  /**
   * Most audio input tokens one second of audio bills on a token-billed transcription model: the
   * worst case of a transcription is its longest possible duration (see
   * `limits.minAudioBytesPerSecond`) times this. @default none (the model does not transcribe here)
   */
  readonly audioTokensPerSecond?: number;
  /**
   * Most audio output tokens one input character bills at speed 1 on a token-billed speech model
   * (gpt-4o-mini-tts); a slower `speed` scales it up. @default none (the model does not speak here)
   */
  readonly speechTokensPerCharacter?: number;
}

/** OpenAI's long-context pricing of a model (see `ModelPrice.longContext`). */
export interface LongContextPricing {
  /** Input tokens above which the whole request bills at the long-context rates. */
  readonly aboveInputTokens: number;
  /** Factor on input, cached input and cache-write prices. */
  readonly inputFactor: number;
  /** Factor on output prices. */
  readonly outputFactor: number;
}

/** Price factors of the service tiers priced apart from standard (see `ModelPrice.serviceTierFactors`). */
export interface ServiceTierFactors {
  /** @default 1 */
  readonly flex?: number;
  /** @default PRIORITY_PRICE_FACTOR */
  readonly priority?: number;
}

export const SERVICE_TIERS = ['auto', 'default', 'flex', 'priority', 'scale'] as const;
export type ServiceTier = (typeof SERVICE_TIERS)[number];
/** Tiers at or below the standard price: `flex` is cheaper, so metering it at standard over-charges. */
export const DEFAULT_SERVICE_TIERS: readonly ServiceTier[] = ['auto', 'default', 'flex'];
/**
 * What the priority tier costs against standard on a model without its own factor: the dearest of the
 * current models (gpt-5.5: $12.50 against $5.00 input, $75 against $30 output, read on
 * https://openai.com/api-priority-processing/ on 2026-12-02), so a model without one is never under-metered.
 */
export const PRIORITY_PRICE_FACTOR = 2.5;

/**
 * Buffered multipart forms (audio and image uploads) accepted by default: OpenAI's 25 MB audio file
 * limit plus 1 MiB for the form's other parts. (`/v1/files` uploads are streamed: DEFAULT_MAX_UPLOAD_BYTES.)
 */
export const DEFAULT_MAX_FORM_BYTES = 26 * 1024 * 1024;
/** Bytes a second of audio takes at least, by default: 4 kbit/s, below every format OpenAI transcribes. */
export const DEFAULT_MIN_AUDIO_BYTES_PER_SECOND = 500;
/** The largest buffered multipart form a stage may allow: each is buffered whole in the replica's memory. */
export const MAX_FORM_BYTES = 128 * 1024 * 1024;

/** Calls one client may have in flight per replica by default: a quarter of the upstream pool (256). */
export const DEFAULT_MAX_CONCURRENT_CALLS = 64;

/** OpenAI's largest file upload, 512 MB. */
export const DEFAULT_MAX_UPLOAD_BYTES = 512 * 1024 * 1024;

/** gpt-4.1's context window, the largest of a current model: no prompt bills more input tokens. */
export const CONTEXT_WINDOW_TOKENS = 1_047_576;
/** A file's worst case by default: however many pages it holds, a prompt bills no more than a context. */
export const DEFAULT_FILE_TOKENS = CONTEXT_WINDOW_TOKENS;

/**
 * The families of the OpenAI API the gateway carries; a client calls only the families it is allowed
 * (any other route answers 404, as an unknown one does).
 */
export const API_FAMILIES = [
  'chat',
  'embeddings',
  'responses',
  'completions',
  'conversations',
  'moderations',
  'files',
  'batches',
  'audio',
  'images',
  'traces',
] as const;
export type ApiFamily = (typeof API_FAMILIES)[number];
/**
 * Families a client may call by default: the text endpoints. Files, batches, audio and images store
 * data or bill by the unit, so a stage turns them on per client; tracing sends the app's traces to OpenAI.
 */
export const DEFAULT_API_FAMILIES: readonly ApiFamily[] = [
  'chat',
  'embeddings',
  'responses',
  'completions',
  'conversations',
  'moderations',
];

export const REASONING_EFFORTS = ['none', 'minimal', 'low', 'medium', 'high', 'xhigh', 'max'] as const;
export type ReasoningEffort = (typeof REASONING_EFFORTS)[number];

/** gpt-4o-mini at high detail: 2,833 base tokens + 8 tiles x 5,667, the most any current model bills an image. */
export const DEFAULT_IMAGE_TOKENS = 2_833 + 8 * 5_667;

/** One key of a client: its hash, and the instant from which it is refused. */
export interface ClientKey {
  /** Lowercase hex SHA-256 of the key. */
  readonly keySha256: string;
  /**
   * ISO 8601 instant with a time zone (e.g. `2026-12-31T00:00:00Z`) from which the key is refused: the
   * old key of a rotation keeps working until then, with no reload needed.
   * @default none (the key never expires)
   */
  readonly expiresAt?: string;
}

/** One calling application. */
export interface ClientConfig {
  /** Stable identifier, used in metrics, logs, cache keys and the upstream safety identifier. */
  readonly id: string;
  /**
   * Lowercase hex SHA-256 of the caller's API key. The gateway never sees the key in config. A document
   * may give `keys` instead; the parsed config then holds the first of them here.
   */
  readonly keySha256: string;
  /**
   * The client's keys, for a rotation's overlap: every key listed is accepted until its `expiresAt`.
   * `keySha256`, when the document sets it too, is one more key that never expires.
   * @default none (the one key `keySha256`)
   */
  readonly keys?: readonly ClientKey[];
  /** Requests per minute this client may make. */
  readonly rpm: number;
  /** Tokens per minute (prompt estimate + max completion tokens) this client may reserve. */
  readonly tpm: number;
  /** Monthly spend in USD after which this client's requests are refused. */
  readonly monthlyBudgetUsd: number;
  /**
   * Model calls this client may have in flight at once on one gateway replica; more are refused with
   * 429 and `Retry-After`, so one client cannot hold the replica's whole upstream connection pool.
   * @default DEFAULT_MAX_CONCURRENT_CALLS
   */
  readonly maxConcurrentCalls?: number;
  /**
   * OpenAI service tiers this client may ask for (`service_tier`). `priority` is billed at a premium
   * (reserved and metered at the model's `serviceTierFactors`); anything not listed is refused with
   * 400 naming the param.
   * @default DEFAULT_SERVICE_TIERS
   */
  readonly serviceTiers?: readonly ServiceTier[];
  /**
   * Reasoning efforts this client may ask for (`reasoning_effort`, `reasoning.effort`). Reasoning tokens
   * are output tokens, bounded by the output cap, so every effort stays within the reservation; a
   * stage limits efforts for latency and for the share of the cap a call spends thinking. Anything not
   * listed is refused with 400 naming the param.
   * @default every effort
   */
  readonly reasoningEfforts?: readonly ReasoningEffort[];
  /**
   * API families this client may call; a route of any other family answers 404 `unknown_url`.
   * @default DEFAULT_API_FAMILIES
   */
  readonly apiFamilies?: readonly ApiFamily[];

  /**
   * Models or aliases this client may call.
   * @default every configured model and alias
   */
  readonly models?: readonly string[];
}

/** Request caps applied to every call; see the guide's "Improving latencies". */
export interface RequestLimits {
  /** Largest `max_tokens` / `max_completion_tokens` a caller may ask for. */
  readonly maxTokens: number;
  /** `max_tokens` applied when the caller sends none. */
  readonly defaultMaxTokens: number;
  /** Largest `n`. */
  readonly maxN: number;
  /** Most stop sequences in `stop`. */
  readonly maxStopSequences: number;
  /** Largest request body in bytes. */
  readonly maxBodyBytes: number;
  /**
   * Largest multipart upload (`POST /v1/files`) in bytes, streamed through, never buffered whole;
   * past it the upstream request is aborted and the caller gets 413.
   * @default DEFAULT_MAX_UPLOAD_BYTES (OpenAI's 512 MB per file)
   */
  readonly maxUploadBytes?: number;
  /**
   * Largest `multipart/form-data` body in bytes (audio transcriptions and translations, image edits),
   * buffered whole before it is forwarded.
   * @default DEFAULT_MAX_FORM_BYTES (OpenAI's 25 MB audio file limit, plus room for the form)
   */
  readonly maxFormBytes?: number;
  /**
   * The fewest bytes one second of uploaded audio can take in any format OpenAI reads: the longest
   * duration an upload may hold, and so a transcription's worst case, is its size over this.
   * @default DEFAULT_MIN_AUDIO_BYTES_PER_SECOND (4 kbit/s, below Opus at its 6 kbit/s floor)
   */
  readonly minAudioBytesPerSecond?: number;
  /**
   * Refuse a body parameter its endpoint spec does not know with OpenAI's 400 `unknown_parameter`,
   * instead of forwarding it (an unknown parameter may be billed in ways the budgets do not see).
   * @default false
   */
  readonly strictParameters?: boolean;
  /**
   * Allow `background: true` on `/v1/responses`. A background response keeps its reservation until
   * the gateway sees its final status (a poller in every replica asks upstream for the pending ones),
   * so budgets hold its worst case meanwhile; off, it is refused with 400 naming `background`.
   * @default false
   */
  readonly backgroundResponses?: boolean;
}

/**
 * What the gateway does while Redis cannot answer: `shared` enforces each replica's share of the
 * limits and of the budget left (service/store/shared-fallback.ts), `open` admits without limits,
 * `closed` refuses with 503.
 */
export type StoreFallback = 'shared' | 'open' | 'closed';

export interface GatewayConfig {
  /**
   * Stage name, used as the `Stage` metric dimension and in Redis key prefixes.
   * @default 'local'
   */
  readonly stage: string;
  readonly clients: readonly ClientConfig[];
  /** Real model name to price. Every model a caller can reach must be here. */
  readonly models: Readonly<Record<string, ModelPrice>>;
  /**
   * Alias to real model name, e.g. `{ "default": "gpt-4o-mini" }`.
   * @default {}
   */
  readonly aliases: Readonly<Record<string, string>>;
  readonly limits: RequestLimits;
  /**
   * Stage-wide rate limits across all clients and replicas.
   * @default the sum of the clients' limits
   */
  readonly rateLimits: {
    readonly rpm: number;
    readonly tpm: number;
    /**
     * Seconds of the stage's minute limits that may be spent at once. OpenAI may enforce a project's
     * per-minute limits over shorter periods; a smaller burst spreads the stage's traffic so the
     * gateway refuses locally, with an exact Retry-After, instead of relaying upstream 429s.
     * @default 60 (a whole minute's limit at once)
     */
    readonly burstSeconds: number;
  };
  readonly budget: {
    /** Stage-wide monthly spend in USD after which every request is refused. */
    readonly monthlyUsd: number;
    /** Percent of `monthlyUsd` at which the spend alarm notifies on-call. */
    readonly notifyAtPercent: number;
  };
  readonly cache: {
    /** How long a cached response lives. 0 disables the cache. */
    readonly ttlSeconds: number;
    /**
     * Part of every cache key: change it to invalidate every cached response at once.
     * @default '1'
     */
    readonly version: string;
  };
  readonly upstream: {
    /** `OpenAI-Organization` header. @default none */
    readonly organization?: string;
    /** `OpenAI-Project` header. @default none */
    readonly project?: string;
    /** Time allowed for upstream response headers (and between stream chunks). @default 60000 */
    readonly timeoutMs: number;
    /** Retries after the first attempt for 429, 5xx and timeouts. @default 2 */
    readonly maxRetries: number;
    /** Longest upstream `Retry-After` the gateway waits out before giving up. @default 10 */
    readonly maxRetryAfterSeconds: number;
  };
  readonly moderation: {
    /** Check chat input with the moderation endpoint before the model call. @default false */
    readonly enabled: boolean;
    /** @default 'omni-moderation-latest' */
    readonly model: string;
  };
  readonly store: {
    /**
     * While Redis is unavailable: `shared` enforces each replica's share of the limits and of the
     * budget left, `open` admits without limits, `closed` refuses with 503.
     * @default 'shared'
     */
    readonly fallback: StoreFallback;
    /** Per-command timeout before a Redis call counts as failed. @default 50 */
    readonly commandTimeoutMs: number;
  };
}

/** A config document failed validation. `field` is a JSON path such as `clients[0].rpm`. */
export class GatewayConfigError extends Error {
  constructor(
    readonly field: string,
    problem: string,
  ) {
    super(`gateway config: ${field} ${problem}`);
    this.name = 'GatewayConfigError';
  }
}

type Json = JsonObject;
const isObject = isJsonObject;

function object(v: unknown, field: string): Json {
  if (!isObject(v)) throw new GatewayConfigError(field, 'must be an object');
  return v;
}

function optionalObject(v: unknown, field: string): Json {
  return v === undefined ? {} : object(v, field);
}

function str(v: unknown, field: string, pattern?: RegExp, patternText?: string): string {
  if (typeof v !== 'string' || v.length === 0)
    throw new GatewayConfigError(field, 'must be a non-empty string');
  if (pattern && !pattern.test(v)) throw new GatewayConfigError(field, `must be ${patternText}`);
  return v;
}

function num(
  v: unknown,
  field: string,
  opts: { integer?: boolean; min?: number; max?: number } = {},
): number {
  const { integer = false, min = 0, max = Number.MAX_SAFE_INTEGER } = opts;
  const kind = integer ? 'an integer' : 'a number';
  if (typeof v !== 'number' || !Number.isFinite(v) || (integer && !Number.isInteger(v))) {
    throw new GatewayConfigError(field, `must be ${kind}`);
  }
  if (v < min || v > max) throw new GatewayConfigError(field, `must be ${kind} from ${min} to ${max}`);
  return v;
}

/** `{ [key]: n }` when `obj[key]` is set (validated as `num` does), `{}` otherwise. */
function optionalNum(
  obj: Json,
  parent: string,
  key: string,
  opts?: Parameters<typeof num>[2],
): Record<string, number> {
  return obj[key] === undefined ? {} : { [key]: num(obj[key], `${parent}.${key}`, opts) };
}

function withDefault<T>(v: unknown, fallback: T, parse: (v: unknown) => T): T {
  return v === undefined ? fallback : parse(v);
}

const CLIENT_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;
const STAGE = /^[A-Za-z0-9-]{1,32}$/;

function parseModels(v: unknown): Record<string, ModelPrice> {
  const models = object(v, 'models');
  const names = Object.keys(models);
  if (names.length === 0) throw new GatewayConfigError('models', 'must name at least one model');
  const out: Record<string, ModelPrice> = {};
  for (const name of names) {
    const field = `models.${name}`;
    const m = object(models[name], field);
    out[name] = {
      inputUsdPer1M: num(m.inputUsdPer1M, `${field}.inputUsdPer1M`),
      outputUsdPer1M: num(m.outputUsdPer1M, `${field}.outputUsdPer1M`),
      ...(m.cachedInputUsdPer1M === undefined
        ? {}
        : { cachedInputUsdPer1M: num(m.cachedInputUsdPer1M, `${field}.cachedInputUsdPer1M`) }),
      ...optionalNum(m, field, 'imageTokens', { integer: true, min: 1 }),
      ...optionalNum(m, field, 'fileTokens', { integer: true, min: 1 }),
      ...optionalNum(m, field, 'audioInputUsdPer1M'),
      ...optionalNum(m, field, 'audioOutputUsdPer1M'),
      ...optionalNum(m, field, 'cacheWriteUsdPer1M'),
      ...(m.longContext === undefined ? {} : { longContext: parseLongContext(m.longContext, field) }),
      ...(m.serviceTierFactors === undefined
        ? {}
        : { serviceTierFactors: parseTierFactors(m.serviceTierFactors, field) }),
      ...optionalNum(m, field, 'imageInputUsdPer1M'),
      ...optionalNum(m, field, 'imageOutputUsdPer1M'),
      ...optionalNum(m, field, 'imageOutputTokens', { integer: true, min: 1 }),
      ...(m.imageUsd === undefined ? {} : { imageUsd: parseImageUsd(m.imageUsd, `${field}.imageUsd`) }),
      ...optionalNum(m, field, 'usdPer1MCharacters'),
      ...optionalNum(m, field, 'usdPerMinute'),
      ...optionalNum(m, field, 'audioTokensPerSecond', { min: 1 }),
      ...optionalNum(m, field, 'speechTokensPerCharacter', { min: 0.001 }),
    };
    if ((out[name].audioInputUsdPer1M === undefined) !== (out[name].audioOutputUsdPer1M === undefined)) {
      throw new GatewayConfigError(
        field,
        'must set both audioInputUsdPer1M and audioOutputUsdPer1M, or neither',
      );
    }
  }
  return out;
}

function parseLongContext(v: unknown, parent: string): LongContextPricing {
  const field = `${parent}.longContext`;
  const l = object(v, field);
  return {
    aboveInputTokens: num(l.aboveInputTokens, `${field}.aboveInputTokens`, { integer: true, min: 1 }),
    // A long request never bills less per token than a short one.
    inputFactor: num(l.inputFactor, `${field}.inputFactor`, { min: 1 }),
    outputFactor: num(l.outputFactor, `${field}.outputFactor`, { min: 1 }),
  };
}

function parseTierFactors(v: unknown, parent: string): ServiceTierFactors {
  const field = `${parent}.serviceTierFactors`;
  const t = object(v, field);
  for (const key of Object.keys(t)) {
    if (key !== 'flex' && key !== 'priority')
      throw new GatewayConfigError(`${field}.${key}`, 'is not a tier priced apart (flex, priority)');
  }
  return {
    ...optionalNum(t, field, 'flex', { min: 0.01, max: 1 }),
    ...optionalNum(t, field, 'priority', { min: 1, max: 10 }),
  };
}

/** `quality:size`, e.g. `standard:1024x1024`. */
const IMAGE_VARIANT = /^[a-z]+:\d+x\d+$/;

function parseImageUsd(v: unknown, field: string): Record<string, number> {
  const prices = object(v, field);
  const variants = Object.keys(prices);
  if (variants.length === 0) throw new GatewayConfigError(field, 'must price at least one quality:size');
  const out: Record<string, number> = {};
  for (const variant of variants) {
    if (!IMAGE_VARIANT.test(variant))
      throw new GatewayConfigError(`${field}.${variant}`, 'must be named quality:size, e.g. hd:1024x1792');
    out[variant] = num(prices[variant], `${field}.${variant}`);
  }
  return out;
}

function parseAliases(v: unknown, models: Record<string, ModelPrice>): Record<string, string> {
  const aliases = optionalObject(v, 'aliases');
  const out: Record<string, string> = {};
  for (const [alias, target] of Object.entries(aliases)) {
    const field = `aliases.${alias}`;
    const model = str(target, field);
    if (!(model in models))
      throw new GatewayConfigError(field, `points to "${model}", which has no price in models`);
    if (alias in models) throw new GatewayConfigError(field, 'must not shadow a model of the same name');
    out[alias] = model;
  }
  return out;
}

function parseLimits(v: unknown): RequestLimits {
  const l = object(v, 'limits');
  const limits: RequestLimits = {
    maxTokens: num(l.maxTokens, 'limits.maxTokens', { integer: true, min: 1 }),
    defaultMaxTokens: num(l.defaultMaxTokens, 'limits.defaultMaxTokens', { integer: true, min: 1 }),
    maxN: num(l.maxN, 'limits.maxN', { integer: true, min: 1, max: 128 }),
    maxStopSequences: num(l.maxStopSequences, 'limits.maxStopSequences', { integer: true, min: 0, max: 4 }),
    maxBodyBytes: num(l.maxBodyBytes, 'limits.maxBodyBytes', {
      integer: true,
      min: 1024,
      max: 64 * 1024 * 1024,
    }),
    ...(l.maxUploadBytes === undefined
      ? {}
      : {
          maxUploadBytes: num(l.maxUploadBytes, 'limits.maxUploadBytes', {
            integer: true,
            min: 1024,
            max: DEFAULT_MAX_UPLOAD_BYTES,
          }),
        }),
    ...optionalNum(l, 'limits', 'maxFormBytes', { integer: true, min: 1024, max: MAX_FORM_BYTES }),
    ...optionalNum(l, 'limits', 'minAudioBytesPerSecond', { integer: true, min: 1 }),
    ...(l.strictParameters === undefined
      ? {}
      : { strictParameters: bool(l.strictParameters, 'limits.strictParameters') }),
    ...(l.backgroundResponses === undefined
      ? {}
      : { backgroundResponses: bool(l.backgroundResponses, 'limits.backgroundResponses') }),
  };
  if (limits.defaultMaxTokens > limits.maxTokens) {
    throw new GatewayConfigError(
      'limits.defaultMaxTokens',
      `must not exceed limits.maxTokens (${limits.maxTokens})`,
    );
  }
  return limits;
}

function parseClients(
  v: unknown,
  models: Record<string, ModelPrice>,
  aliases: Record<string, string>,
): ClientConfig[] {
  if (!Array.isArray(v) || v.length === 0)
    throw new GatewayConfigError('clients', 'must be a non-empty array');
  const ids = new Set<string>();
  const hashes = new Set<string>();
  return v.map((raw, i) => {
    const field = `clients[${i}]`;
    const c = object(raw, field);
    const id = str(c.id, `${field}.id`, CLIENT_ID, 'letters, digits, "_", "." or "-" (at most 64)');
    if (ids.has(id)) throw new GatewayConfigError(`${field}.id`, `repeats the id "${id}"`);
    ids.add(id);
    const keys = parseClientKeys(c, field, hashes);
    const client: ClientConfig = {
      id,
      keySha256: keys[0].keySha256,
      ...(c.keys === undefined ? {} : { keys }),
      rpm: num(c.rpm, `${field}.rpm`, { integer: true, min: 1 }),
      tpm: num(c.tpm, `${field}.tpm`, { integer: true, min: 1 }),
      monthlyBudgetUsd: num(c.monthlyBudgetUsd, `${field}.monthlyBudgetUsd`),
      ...optionalNum(c, field, 'maxConcurrentCalls', { integer: true, min: 1 }),
    };
    const lists = {
      ...(c.serviceTiers === undefined
        ? {}
        : { serviceTiers: choices(c.serviceTiers, `${field}.serviceTiers`, SERVICE_TIERS) }),
      ...(c.reasoningEfforts === undefined
        ? {}
        : {
            reasoningEfforts: choices(c.reasoningEfforts, `${field}.reasoningEfforts`, REASONING_EFFORTS),
          }),
      ...(c.apiFamilies === undefined
        ? {}
        : { apiFamilies: choices(c.apiFamilies, `${field}.apiFamilies`, API_FAMILIES) }),
    };
    if (c.models === undefined) return { ...client, ...lists };
    if (!Array.isArray(c.models) || c.models.length === 0) {
      throw new GatewayConfigError(`${field}.models`, 'must be a non-empty array of model names or aliases');
    }
    const allowed = c.models.map((m, j) => {
      const name = str(m, `${field}.models[${j}]`);
      if (!(name in models) && !(name in aliases)) {
        throw new GatewayConfigError(
          `${field}.models[${j}]`,
          `names "${name}", which is neither a model nor an alias`,
        );
      }
      return name;
    });
    return { ...client, ...lists, models: allowed };
  });
}

const SHA256_TEXT = '64 lowercase hex characters (a SHA-256)';
/** An instant with a time zone: `2026-12-31T00:00:00Z`, `2026-12-31T00:00:00.000+02:00`. */
const ISO_INSTANT = /^(\d{4})-(\d{2})-(\d{2})T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * A client's keys: `keySha256` (never expires) and then `keys`; at least one in all, and no hash used
 * twice across the document (`hashes` holds those seen so far).
 */
function parseClientKeys(c: Json, field: string, hashes: Set<string>): ClientKey[] {
  const keys: ClientKey[] = [];
  const add = (key: ClientKey, keyField: string) => {
    if (hashes.has(key.keySha256)) throw new GatewayConfigError(keyField, 'repeats another client key');
    hashes.add(key.keySha256);
    keys.push(key);
  };
  if (c.keySha256 !== undefined || c.keys === undefined) {
    const keyField = `${field}.keySha256`;
    add({ keySha256: str(c.keySha256, keyField, SHA256_HEX, SHA256_TEXT) }, keyField);
  }
  if (c.keys === undefined) return keys;
  if (!Array.isArray(c.keys) || c.keys.length === 0)
    throw new GatewayConfigError(`${field}.keys`, 'must be a non-empty array of { keySha256, expiresAt? }');
  c.keys.forEach((raw, j) => {
    const keyField = `${field}.keys[${j}]`;
    const k = object(raw, keyField);
    const keySha256 = str(k.keySha256, `${keyField}.keySha256`, SHA256_HEX, SHA256_TEXT);
    const expiresAt =
      k.expiresAt === undefined ? {} : { expiresAt: instant(k.expiresAt, `${keyField}.expiresAt`) };
    add({ keySha256, ...expiresAt }, `${keyField}.keySha256`);
  });
  return keys;
}

/** An ISO 8601 instant with a time zone, on a day the calendar has. */
function instant(v: unknown, field: string): string {
  const text = str(v, field);
  const m = ISO_INSTANT.exec(text);
  if (m === null || Number.isNaN(Date.parse(text)) || !isCalendarDay(+m[1], +m[2], +m[3]))
    throw new GatewayConfigError(
      field,
      'must be an ISO 8601 instant with a time zone, e.g. 2026-12-31T00:00:00Z',
    );
  return text;
}

/** `Date.parse` rolls 2026-02-30 over to March; the calendar does not have it. */
function isCalendarDay(year: number, month: number, day: number): boolean {
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

/** The instant a key expires, ms since the epoch; Infinity for a key that never does. */
export function keyExpiryMs(key: ClientKey): number {
  return key.expiresAt === undefined ? Infinity : Date.parse(key.expiresAt);
}

/** A client's keys as the gateway accepts them: `keys`, or the one `keySha256`. */
export function clientKeys(client: ClientConfig): readonly ClientKey[] {
  return client.keys ?? [{ keySha256: client.keySha256 }];
}

/**
 * A client as a document gives it: `keySha256`, `keys` (a rotation's overlap), or both; the parser
 * requires at least one key.
 */
export type ClientDocument = Omit<ClientConfig, 'keySha256'> & {
  /**
   * Lowercase hex SHA-256 of a key that never expires.
   * @default none (the client's keys are `keys`)
   */
  readonly keySha256?: string;
};

/** A gateway config as a document gives it (what `parseGatewayConfig` reads). */
export type GatewayConfigDocument = Omit<GatewayConfig, 'clients'> & {
  readonly clients: readonly ClientDocument[];
};

/**
 * The document of a parsed config, which parses back to the same config: a client with `keys` leaves
 * out the `keySha256` the parser copied from its first key (given both, the parser counts that key
 * twice and refuses it as repeated, and the copy would never expire).
 */
export function gatewayConfigDocument(config: GatewayConfig): GatewayConfigDocument {
  const clients = config.clients.map(({ keySha256, ...client }) =>
    client.keys === undefined ? { ...client, keySha256 } : client,
  );
  return { ...config, clients };
}

function bool(v: unknown, field: string): boolean {
  if (typeof v !== 'boolean') throw new GatewayConfigError(field, 'must be true or false');
  return v;
}

/** An array of values from `allowed` (possibly empty). */
function choices<T extends string>(v: unknown, field: string, allowed: readonly T[]): T[] {
  if (!Array.isArray(v)) throw new GatewayConfigError(field, `must be an array of ${allowed.join(', ')}`);
  return v.map((x, i) => {
    if (typeof x !== 'string' || !(allowed as readonly string[]).includes(x)) {
      throw new GatewayConfigError(`${field}[${i}]`, `must be one of ${allowed.join(', ')}`);
    }
    return x as T;
  });
}

/** The most tokens one request may reserve at the stage scope: the stage's TPM over one burst. */
export function stageTokenBurst(
  rateLimits: Pick<GatewayConfig['rateLimits'], 'tpm' | 'burstSeconds'>,
): number {
  return Math.floor((rateLimits.tpm * rateLimits.burstSeconds) / 60);
}

/**
 * Validates a gateway config document and fills in defaults.
 * @throws GatewayConfigError naming the first field that is wrong
 */
export function parseGatewayConfig(doc: unknown): GatewayConfig {
  const root = object(doc, '(document)');
  const stage = withDefault(root.stage, 'local', (v) =>
    str(v, 'stage', STAGE, 'letters, digits or "-" (at most 32)'),
  );
  const models = parseModels(root.models);
  const aliases = parseAliases(root.aliases, models);
  const clients = parseClients(root.clients, models, aliases);
  const limits = parseLimits(root.limits);

  const rl = optionalObject(root.rateLimits, 'rateLimits');
  const rateLimits = {
    rpm: withDefault(
      rl.rpm,
      sum(clients, (c) => c.rpm),
      (v) => num(v, 'rateLimits.rpm', { integer: true, min: 1 }),
    ),
    tpm: withDefault(
      rl.tpm,
      sum(clients, (c) => c.tpm),
      (v) => num(v, 'rateLimits.tpm', { integer: true, min: 1 }),
    ),
    burstSeconds: withDefault(rl.burstSeconds, 60, (v) =>
      num(v, 'rateLimits.burstSeconds', { min: 1, max: 60 }),
    ),
  };

  const b = object(root.budget, 'budget');
  const budget = {
    monthlyUsd: num(b.monthlyUsd, 'budget.monthlyUsd'),
    notifyAtPercent: num(b.notifyAtPercent, 'budget.notifyAtPercent', { min: 1, max: 100 }),
  };
  clients.forEach((c, i) => {
    if (c.monthlyBudgetUsd > budget.monthlyUsd) {
      throw new GatewayConfigError(
        `clients[${i}].monthlyBudgetUsd`,
        `(${c.monthlyBudgetUsd}) must not exceed budget.monthlyUsd (${budget.monthlyUsd})`,
      );
    }
  });

  const c = object(root.cache, 'cache');
  const cache = {
    ttlSeconds: num(c.ttlSeconds, 'cache.ttlSeconds', { integer: true, min: 0, max: 30 * 24 * 3600 }),
    version: withDefault(c.version, '1', (v) =>
      str(
        typeof v === 'number' ? String(v) : v,
        'cache.version',
        /^[A-Za-z0-9._-]{1,32}$/,
        'a short version label',
      ),
    ),
  };

  const u = optionalObject(root.upstream, 'upstream');
  const upstream = {
    ...(u.organization === undefined ? {} : { organization: str(u.organization, 'upstream.organization') }),
    ...(u.project === undefined ? {} : { project: str(u.project, 'upstream.project') }),
    timeoutMs: withDefault(u.timeoutMs, 60_000, (v) =>
      num(v, 'upstream.timeoutMs', { integer: true, min: 100 }),
    ),
    maxRetries: withDefault(u.maxRetries, 2, (v) =>
      num(v, 'upstream.maxRetries', { integer: true, min: 0, max: 10 }),
    ),
    maxRetryAfterSeconds: withDefault(u.maxRetryAfterSeconds, 10, (v) =>
      num(v, 'upstream.maxRetryAfterSeconds', { min: 0, max: 120 }),
    ),
  };

  const m = optionalObject(root.moderation, 'moderation');
  const moderation = {
    enabled: withDefault(m.enabled, false, (v) => {
      if (typeof v !== 'boolean') throw new GatewayConfigError('moderation.enabled', 'must be true or false');
      return v;
    }),
    model: withDefault(m.model, 'omni-moderation-latest', (v) => str(v, 'moderation.model')),
  };

  const s = optionalObject(root.store, 'store');
  const store = {
    fallback: withDefault<StoreFallback>(s.fallback, 'shared', (v) => {
      if (v === 'local')
        throw new GatewayConfigError(
          'store.fallback',
          'is "local", which let N replicas admit N times the limits and budgets: use "shared" (their shares), "open" or "closed"',
        );
      if (v !== 'shared' && v !== 'open' && v !== 'closed') {
        throw new GatewayConfigError('store.fallback', 'must be "shared", "open" or "closed"');
      }
      return v;
    }),
    commandTimeoutMs: withDefault(s.commandTimeoutMs, 50, (v) =>
      num(v, 'store.commandTimeoutMs', { integer: true, min: 1, max: 5000 }),
    ),
  };

  return { stage, clients, models, aliases, limits, rateLimits, budget, cache, upstream, moderation, store };
}

function sum<T>(items: readonly T[], of: (item: T) => number): number {
  return items.reduce((total, item) => total + of(item), 0);
}

/** Resolves a model or alias to the real model name, or undefined when the config knows neither. */
export function resolveModel(config: GatewayConfig, name: string): string | undefined {
  if (Object.prototype.hasOwnProperty.call(config.aliases, name)) return config.aliases[name];
  if (Object.prototype.hasOwnProperty.call(config.models, name)) return name;
  return undefined;
}
