import type { ModelPrice } from './gateway-config';

/**
 * Money is counted in integer nano-dollars (1e-9 USD) so that Redis can add it atomically with
 * INCRBY and a 10-token call to a cheap model still costs something. 2^53 nano-dollars is about
 * 9 million USD, far above any monthly budget this project handles.
 */
export const NANOS_PER_USD = 1_000_000_000;

export const usdToNanos = (usd: number): number => Math.round(usd * NANOS_PER_USD);
export const nanosToUsd = (nanos: number): number => nanos / NANOS_PER_USD;

/** The token counts OpenAI reports in `usage` (chat and embeddings use the same names). */
export interface TokenUsage {
  readonly prompt_tokens: number;
  readonly completion_tokens?: number;
  /**
   * The cached share of the prompt, the share written to the cache, and the audio share (each
   * included in `prompt_tokens`).
   */
  readonly prompt_tokens_details?: {
    readonly cached_tokens?: number;
    readonly cache_write_tokens?: number;
    readonly audio_tokens?: number;
  } | null;
  /** The audio share of the completion (included in `completion_tokens`). */
  readonly completion_tokens_details?: { readonly audio_tokens?: number } | null;
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isSet = (v: unknown): boolean => v !== undefined && v !== null;

/** A details object whose `keys` are absent or counts no larger than `total`. */
function detailsOk(details: unknown, keys: readonly string[], total: number): boolean {
  if (!isSet(details)) return true;
  if (typeof details !== 'object') return false;
  return keys.every((key) => {
    const v = (details as Record<string, unknown>)[key];
    return !isSet(v) || (isCount(v) && v <= total);
  });
}

const PROMPT_DETAILS = ['cached_tokens', 'cache_write_tokens', 'audio_tokens'] as const;

/**
 * A `usage` object from an upstream answer, validated: token counts are non-negative integers and each
 * share (cached, audio) is no larger than its total. Anything else is unreadable (undefined), and the
 * caller settles at the worst case: a malformed usage must never turn spend counters into NaN.
 */
export function readUsage(value: unknown): TokenUsage | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const u = value as Record<string, unknown>;
  if (!isCount(u.prompt_tokens)) return undefined;
  if (isSet(u.completion_tokens) && !isCount(u.completion_tokens)) return undefined;
  if (!detailsOk(u.prompt_tokens_details, PROMPT_DETAILS, u.prompt_tokens)) return undefined;
  const completion = (u.completion_tokens as number | undefined) ?? 0;
  if (!detailsOk(u.completion_tokens_details, ['audio_tokens'], completion)) return undefined;
  return value as TokenUsage;
}

/**
 * A Responses API `usage` (`input_tokens`, which includes `input_tokens_details.cached_tokens`, and
 * `output_tokens`, which includes reasoning tokens) in the chat names the meter reads, validated as
 * `readUsage` does.
 */
export function readResponsesUsage(value: unknown): TokenUsage | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const u = value as Record<string, unknown>;
  const details = u.input_tokens_details;
  const input: Record<string, unknown> = {};
  if (typeof details === 'object' && details !== null) {
    for (const key of ['cached_tokens', 'cache_write_tokens'] as const) {
      const count = (details as Record<string, unknown>)[key];
      if (count !== undefined && count !== null) input[key] = count;
    }
  }
  return readUsage({
    prompt_tokens: u.input_tokens,
    completion_tokens: u.output_tokens ?? 0,
    ...(Object.keys(input).length === 0 ? {} : { prompt_tokens_details: input }),
  });
}

/** The long-context factors that apply to a request of `promptTokens` (1 and 1 when none do). */
function lengthFactors(price: ModelPrice, promptTokens: number): { input: number; output: number } {
  const long = price.longContext;
  if (long === undefined || promptTokens <= long.aboveInputTokens) return { input: 1, output: 1 };
  return { input: long.inputFactor, output: long.outputFactor };
}

/** Cost in nano-dollars of the tokens a response reports, rounded up. */
export function costNanos(price: ModelPrice, usage: TokenUsage): number {
  const prompt = usage.prompt_tokens;
  const completion = usage.completion_tokens ?? 0;
  const details = usage.prompt_tokens_details;
  const audioIn = Math.min(details?.audio_tokens ?? 0, prompt);
  const cached = Math.min(details?.cached_tokens ?? 0, prompt - audioIn);
  const written = Math.min(details?.cache_write_tokens ?? 0, prompt - audioIn - cached);
  const audioOut = Math.min(usage.completion_tokens_details?.audio_tokens ?? 0, completion);
  const factor = lengthFactors(price, prompt);
  const textIn =
    (prompt - audioIn - cached - written) * price.inputUsdPer1M +
    cached * (price.cachedInputUsdPer1M ?? price.inputUsdPer1M) +
    written * (price.cacheWriteUsdPer1M ?? price.inputUsdPer1M);
  // USD per 1M tokens is exactly nano-dollars per 1e-3 token: 1e9 nanos / 1e6 tokens = 1e3.
  const nanos =
    (textIn * factor.input +
      audioIn * (price.audioInputUsdPer1M ?? price.inputUsdPer1M) +
      (completion - audioOut) * price.outputUsdPer1M * factor.output +
      audioOut * (price.audioOutputUsdPer1M ?? price.outputUsdPer1M)) *
    1_000;
  return Math.ceil(nanos);
}

/** The tokens a call may bill at most, and whether any of them may be audio (priced apart). */
export interface WorstCase {
  readonly promptTokens: number;
  readonly completionTokens: number;
  /** @default false */
  readonly audio?: boolean;
}

/**
 * The usage of a call's worst case: every prompt token at the dearest input rate it can bill (written
 * to the cache, when writes cost more than input), every completion token used, and, when the call
 * carries audio, each side priced at the dearer of text and audio.
 */
export function worstCaseUsage(price: ModelPrice, worst: WorstCase): TokenUsage {
  const base = { prompt_tokens: worst.promptTokens, completion_tokens: worst.completionTokens };
  const writeRate = price.cacheWriteUsdPer1M ?? 0;
  const audioInRate = worst.audio === true ? (price.audioInputUsdPer1M ?? 0) : 0;
  const audioIn = audioInRate > Math.max(price.inputUsdPer1M, writeRate);
  const audioOut = worst.audio === true && (price.audioOutputUsdPer1M ?? 0) > price.outputUsdPer1M;
  const written = !audioIn && writeRate > price.inputUsdPer1M;
  if (!worst.audio && !written) return base;
  return {
    ...base,
    prompt_tokens_details: {
      audio_tokens: audioIn ? worst.promptTokens : 0,
      ...(written ? { cache_write_tokens: worst.promptTokens } : {}),
    },
    ...(worst.audio
      ? { completion_tokens_details: { audio_tokens: audioOut ? worst.completionTokens : 0 } }
      : {}),
  };
}

/** Worst-case cost in nano-dollars of a request before it runs (see `worstCaseUsage`). */
export function worstCaseCostNanos(price: ModelPrice, worst: WorstCase): number {
  return costNanos(price, worstCaseUsage(price, worst));
}
