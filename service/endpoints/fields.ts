/**
 * Checks and estimates that several endpoint specs share: the body object, the output-token cap, `n`,
 * `stop`, the `stream` flag, the per-client safety identifier and the byte-based token estimate. Each
 * problem is a 400 in OpenAI's shape naming the `param` at fault.
 */
import { isJsonObject, type JsonObject } from '../../runtime/json';
import { createHash } from 'node:crypto';
import {
  DEFAULT_SERVICE_TIERS,
  PRIORITY_PRICE_FACTOR,
  REASONING_EFFORTS,
  SERVICE_TIERS,
  type GatewayConfig,
  type ModelPrice,
} from '../../runtime/gateway-config';
import { invalidRequest } from '../errors';

export type Body = JsonObject;

/** Per-message framing tokens in the prompt estimate. */
export const MESSAGE_OVERHEAD_TOKENS = 4;
/** Tokens of the reply's priming, added to every chat-shaped prompt estimate. */
export const REPLY_PRIMING_TOKENS = 3;
/** Bytes per token in the estimate: real text averages about 4, so 3 over-estimates on purpose. */
export const BYTES_PER_TOKEN = 3;

export const isObject = isJsonObject;
const isPositiveInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 1;
const isSet = (v: unknown): boolean => v !== undefined && v !== null;

/** The body as a JSON object. @throws GatewayError 400 otherwise */
export function objectBody(raw: unknown): Body {
  if (!isObject(raw)) throw invalidRequest('The request body must be a JSON object.');
  return raw;
}

/** The `stream` flag, false when absent. */
export function streamFlag(body: Body): boolean {
  if (body.stream !== undefined && typeof body.stream !== 'boolean') {
    throw invalidRequest("'stream' must be a boolean.", 'stream');
  }
  return body.stream === true;
}

/**
 * The largest output-token cap among `params` (all checked against `limits.maxTokens`); when none is
 * given, `limits.defaultMaxTokens`, which the caller must then set in the upstream body.
 */
export function outputTokenCap(
  body: Body,
  params: readonly string[],
  limits: GatewayConfig['limits'],
): { readonly tokens: number; readonly defaulted: boolean } {
  let cap: number | undefined;
  for (const param of params) {
    const v = body[param];
    if (!isSet(v)) continue;
    if (!isPositiveInt(v)) throw invalidRequest(`'${param}' must be a positive integer.`, param);
    if (v > limits.maxTokens) {
      throw invalidRequest(`'${param}' is ${v}; this gateway allows at most ${limits.maxTokens}.`, param);
    }
    cap = Math.max(cap ?? 0, v);
  }
  return cap === undefined
    ? { tokens: limits.defaultMaxTokens, defaulted: true }
    : { tokens: cap, defaulted: false };
}

/** The number of choices `n` (1 when absent), at most `limits.maxN`. */
export function choiceCount(body: Body, limits: GatewayConfig['limits']): number {
  if (!isSet(body.n)) return 1;
  if (!isPositiveInt(body.n)) throw invalidRequest("'n' must be a positive integer.", 'n');
  if (body.n > limits.maxN) {
    throw invalidRequest(`'n' is ${body.n}; this gateway allows at most ${limits.maxN}.`, 'n');
  }
  return body.n;
}

/** `stop` as a string or strings, at most `limits.maxStopSequences`. */
export function checkStop(body: Body, limits: GatewayConfig['limits']): void {
  if (!isSet(body.stop)) return;
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

/** A numeric parameter, when present. */
export function checkNumber(body: Body, param: string): void {
  if (isSet(body[param]) && typeof body[param] !== 'number') {
    throw invalidRequest(`'${param}' must be a number.`, param);
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

/**
 * The `prompt_cache_key` a call goes upstream with: the caller's own, else one per client. OpenAI
 * routes requests with the same key (and prompt prefix) to the same cache machines: one key per client
 * keeps each client's prompts warm together and one client's traffic from evicting another's.
 * @throws GatewayError 400 when the caller's key is not a string
 */
export function promptCacheKey(body: Body, clientId: string): string {
  const given = body.prompt_cache_key;
  if (!isSet(given)) return `client:${clientId}`;
  if (typeof given !== 'string')
    throw invalidRequest("'prompt_cache_key' must be a string.", 'prompt_cache_key');
  return given;
}

/** Tokens of `bytes` of text, rounded up, at least 1. */
export const textTokens = (bytes: number): number => Math.ceil(bytes / BYTES_PER_TOKEN) || 1;

/** Bytes of a content value: a string as UTF-8, anything else as its JSON. */
export function contentBytes(content: unknown): number {
  if (typeof content === 'string') return Buffer.byteLength(content);
  if (content === undefined || content === null) return 0;
  return Buffer.byteLength(JSON.stringify(content));
}

/** Under strict parameters, the first body parameter the spec does not know: OpenAI's 400. */
export function checkKnownParameters(
  body: Body,
  known: ReadonlySet<string>,
  limits: GatewayConfig['limits'],
): void {
  if (!limits.strictParameters) return;
  for (const name of Object.keys(body)) {
    if (!known.has(name)) throw invalidRequest(`Unknown parameter: '${name}'.`, name, 'unknown_parameter');
  }
}

/**
 * The price factor of the `service_tier` asked for, on the model's price: refused (400) unless the
 * client may use that tier. Flex and priority are reserved and metered at the model's own factors
 * (priority at PRIORITY_PRICE_FACTOR on a model without one, flex at standard); every other tier at
 * standard.
 */
export function serviceTierFactor(
  body: Body,
  allowed: readonly string[] | undefined,
  price: ModelPrice,
): number {
  const tier = body.service_tier;
  if (tier === undefined || tier === null) return 1;
  if (typeof tier !== 'string' || !(SERVICE_TIERS as readonly string[]).includes(tier)) {
    throw invalidRequest(`'service_tier' must be one of ${SERVICE_TIERS.join(', ')}.`, 'service_tier');
  }
  if (!(allowed ?? DEFAULT_SERVICE_TIERS).includes(tier)) {
    throw invalidRequest(
      `'service_tier' ${tier} is not allowed for this application.`,
      'service_tier',
      'service_tier_not_allowed',
    );
  }
  if (tier === 'priority') return price.serviceTierFactors?.priority ?? PRIORITY_PRICE_FACTOR;
  if (tier === 'flex') return price.serviceTierFactors?.flex ?? 1;
  return 1;
}

/** A reasoning effort (`reasoning_effort`, `reasoning.effort`) the client may ask for. @throws GatewayError 400 */
export function checkReasoningEffort(
  effort: unknown,
  param: string,
  allowed: readonly string[] | undefined,
): void {
  if (effort === undefined || effort === null) return;
  if (typeof effort !== 'string' || !(REASONING_EFFORTS as readonly string[]).includes(effort)) {
    throw invalidRequest(`'${param}' must be one of ${REASONING_EFFORTS.join(', ')}.`, param);
  }
  if (allowed !== undefined && !allowed.includes(effort)) {
    throw invalidRequest(
      `'${param}' ${effort} is not allowed for this application.`,
      param,
      'reasoning_effort_not_allowed',
    );
  }
}

/**
 * `stream_options` of the completions stream grammars (chat and legacy): allowed only with
 * `stream: true`; a stream always asks upstream for the usage chunk, and the caller sees it only if it
 * asked for it.
 */
export function usageStreamOptions(
  body: Body,
  stream: boolean,
): { callerWantsUsage: boolean; upstream?: Body } {
  const options = body.stream_options;
  if (options !== undefined && options !== null) {
    if (!stream)
      throw invalidRequest("'stream_options' is only allowed when 'stream' is true.", 'stream_options');
    if (!isObject(options)) throw invalidRequest("'stream_options' must be an object.", 'stream_options');
  }
  if (!stream) return { callerWantsUsage: false };
  const given = isObject(options) ? options : undefined;
  return { callerWantsUsage: given?.include_usage === true, upstream: { ...given, include_usage: true } };
}

/** OpenAI's limits on `metadata`: at most 16 pairs, keys up to 64 characters, string values up to 512. */
export const METADATA_LIMITS = { pairs: 16, keyLength: 64, valueLength: 512 } as const;

/** `metadata`, when present: an object of at most 16 short string values. @throws GatewayError 400 */
export function checkMetadata(body: Body, param = 'metadata'): void {
  const metadata = body[param];
  if (!isSet(metadata)) return;
  if (!isObject(metadata)) throw invalidRequest(`'${param}' must be an object.`, param);
  const entries = Object.entries(metadata);
  if (entries.length > METADATA_LIMITS.pairs)
    throw invalidRequest(
      `'${param}' has ${entries.length} pairs; at most ${METADATA_LIMITS.pairs} are allowed.`,
      param,
    );
  for (const [key, value] of entries) {
    if (key.length > METADATA_LIMITS.keyLength)
      throw invalidRequest(`'${param}' keys must be at most ${METADATA_LIMITS.keyLength} characters.`, param);
    if (typeof value !== 'string' || value.length > METADATA_LIMITS.valueLength)
      throw invalidRequest(
        `'${param}.${key}' must be a string of at most ${METADATA_LIMITS.valueLength} characters.`,
        `${param}.${key}`,
      );
  }
}

/** The prompt-cache write retentions whose price the table knows (`ModelPrice.cacheWriteUsdPer1M`). */
const PRICED_CACHE_TTLS: readonly string[] = ['30m'];

/**
 * `prompt_cache_options` (chat and Responses): an object whose `ttl`, when set, is a retention the
 * gateway prices; a longer one bills writes at a rate the reservation does not know. @throws GatewayError 400
 */
export function checkPromptCacheOptions(body: Body): void {
  const options = body.prompt_cache_options;
  if (!isSet(options)) return;
  if (!isObject(options))
    throw invalidRequest("'prompt_cache_options' must be an object.", 'prompt_cache_options');
  const ttl = options.ttl;
  if (isSet(ttl) && (typeof ttl !== 'string' || !PRICED_CACHE_TTLS.includes(ttl))) {
    throw invalidRequest(
      `'prompt_cache_options.ttl' must be one of ${PRICED_CACHE_TTLS.join(', ')} through this gateway: other retentions bill cache writes at a price it does not meter.`,
      'prompt_cache_options.ttl',
      'unsupported_value',
    );
  }
}
