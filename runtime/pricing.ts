import type { ModelPrice } from './gateway-config';

/** Output tokens each partial image of a streamed image generation bills (OpenAI's image guide). */
export const PARTIAL_IMAGE_TOKENS = 100;

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
   * The cached share of the prompt, the share written to the cache, and the audio and image shares
   * (each included in `prompt_tokens`).
   */
  readonly prompt_tokens_details?: {
    readonly cached_tokens?: number;
    readonly cache_write_tokens?: number;
    readonly audio_tokens?: number;
    readonly image_tokens?: number;
  } | null;
  /** The audio and image shares of the completion (each included in `completion_tokens`). */
  readonly completion_tokens_details?: {
    readonly audio_tokens?: number;
    readonly image_tokens?: number;
  } | null;
  /** Images billed by the image, at the call's `usdPerImage` (dall-e-2, dall-e-3). @default 0 */
  readonly images?: number;
  /** Input characters billed by the character, at `usdPer1MCharacters` (tts-1, tts-1-hd). @default 0 */
  readonly characters?: number;
  /** Seconds of audio billed by the minute, at `usdPerMinute` (whisper-1). @default 0 */
  readonly seconds?: number;
}

/**
 * The price one call is metered at: its model's, with the per-image price of the call's size and
 * quality picked out of `imageUsd` for models that bill by the image.
 */
export interface CallPrice extends ModelPrice {
  /** Price of one image of this call. @default none (the model bills tokens) */
  readonly usdPerImage?: number;
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

const PROMPT_DETAILS = ['cached_tokens', 'cache_write_tokens', 'audio_tokens', 'image_tokens'] as const;

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
  if (!detailsOk(u.completion_tokens_details, ['audio_tokens', 'image_tokens'], completion)) return undefined;
  if (isSet(u.images) && !isCount(u.images)) return undefined;
  if (isSet(u.characters) && !isCount(u.characters)) return undefined;
  if (isSet(u.seconds) && !(typeof u.seconds === 'number' && Number.isFinite(u.seconds) && u.seconds >= 0))
    return undefined;
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

/**
 * An audio `usage`: `type: 'tokens'` (`input_tokens` with `input_token_details.audio_tokens`,
 * `output_tokens`; transcription), `type: 'duration'` (`seconds`; whisper-1), or a speech stream's
 * (`input_tokens` of text, `output_tokens` all audio) when `outputIsAudio`. Validated as `readUsage` does.
 */
export function readAudioUsage(value: unknown, outputIsAudio = false): TokenUsage | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const u = value as Record<string, unknown>;
  if (u.type === 'duration') return readUsage({ prompt_tokens: 0, completion_tokens: 0, seconds: u.seconds });
  const details = u.input_token_details;
  const audioIn =
    typeof details === 'object' && details !== null ? (details as Record<string, unknown>).audio_tokens : 0;
  return readUsage({
    prompt_tokens: u.input_tokens,
    completion_tokens: u.output_tokens ?? 0,
    prompt_tokens_details: { audio_tokens: audioIn ?? 0 },
    ...(outputIsAudio ? { completion_tokens_details: { audio_tokens: u.output_tokens } } : {}),
  });
}

/**
 * An image-generation `usage` (`input_tokens` with `input_tokens_details.image_tokens`, `output_tokens`
 * with `output_tokens_details.image_tokens`, all of the output image tokens when the details are
 * absent, as gpt-image-1 reports it) in the chat names the meter reads, validated as `readUsage` does.
 */
export function readImageUsage(value: unknown): TokenUsage | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const u = value as Record<string, unknown>;
  const member = (details: unknown, key: string): unknown =>
    typeof details === 'object' && details !== null ? (details as Record<string, unknown>)[key] : undefined;
  const imageIn = member(u.input_tokens_details, 'image_tokens') ?? 0;
  const imageOut = isSet(u.output_tokens_details)
    ? (member(u.output_tokens_details, 'image_tokens') ?? 0)
    : u.output_tokens;
  return readUsage({
    prompt_tokens: u.input_tokens,
    completion_tokens: u.output_tokens ?? 0,
    prompt_tokens_details: { image_tokens: imageIn },
    completion_tokens_details: { image_tokens: imageOut },
  });
}

/** Cost in nano-dollars of the tokens (and images, characters, seconds) a response reports, rounded up. */
export function costNanos(price: CallPrice, usage: TokenUsage): number {
  const prompt = usage.prompt_tokens;
  const completion = usage.completion_tokens ?? 0;
  const details = usage.prompt_tokens_details;
  const audioIn = Math.min(details?.audio_tokens ?? 0, prompt);
  const imageIn = Math.min(details?.image_tokens ?? 0, prompt - audioIn);
  const cached = Math.min(details?.cached_tokens ?? 0, prompt - audioIn - imageIn);
  const written = Math.min(details?.cache_write_tokens ?? 0, prompt - audioIn - imageIn - cached);
  const audioOut = Math.min(usage.completion_tokens_details?.audio_tokens ?? 0, completion);
  const imageOut = Math.min(usage.completion_tokens_details?.image_tokens ?? 0, completion - audioOut);
  const factor = lengthFactors(price, prompt);
  const textIn =
    (prompt - audioIn - imageIn - cached - written) * price.inputUsdPer1M +
    cached * (price.cachedInputUsdPer1M ?? price.inputUsdPer1M) +
    written * (price.cacheWriteUsdPer1M ?? price.inputUsdPer1M);
  // USD per 1M tokens is exactly nano-dollars per 1e-3 token: 1e9 nanos / 1e6 tokens = 1e3.
  const nanos =
    (textIn * factor.input +
      audioIn * (price.audioInputUsdPer1M ?? price.inputUsdPer1M) +
      imageIn * (price.imageInputUsdPer1M ?? price.inputUsdPer1M) +
      (completion - audioOut - imageOut) * price.outputUsdPer1M * factor.output +
      audioOut * (price.audioOutputUsdPer1M ?? price.outputUsdPer1M) +
      imageOut * (price.imageOutputUsdPer1M ?? price.outputUsdPer1M)) *
      1_000 +
    ((usage.images ?? 0) * (price.usdPerImage ?? 0) +
      ((usage.characters ?? 0) * (price.usdPer1MCharacters ?? 0)) / 1e6 +
      ((usage.seconds ?? 0) * (price.usdPerMinute ?? 0)) / 60) *
      NANOS_PER_USD;
  // Rounded to a thousandth of a nano-dollar first: float noise (90 s x $0.006 / 60) must not add one.
  return Math.ceil(Math.round(nanos * 1_000) / 1_000);
}

/** The tokens a call may bill at most, and whether any of them may be audio or image tokens (priced apart). */
export interface WorstCase {
  readonly promptTokens: number;
  readonly completionTokens: number;
  /** @default false */
  readonly audio?: boolean;
  /** Image tokens in or out (image generation and edits). @default false */
  readonly images?: boolean;
  /** Images billed by the image at most (models priced per image). @default 0 */
  readonly billedImages?: number;
  /** Characters billed by the character at most (speech models priced per character). @default 0 */
  readonly billedCharacters?: number;
  /** Seconds of audio billed by the minute at most (transcription models priced per minute). @default 0 */
  readonly billedSeconds?: number;
}

type TokenKind = 'text' | 'write' | 'audio' | 'image';

/**
 * The dearest kind of token a side may bill at: text, a cache write (any prompt may be written, where
 * the model prices writes), and the kinds the call carries.
 */
function dearest(rates: Readonly<Partial<Record<TokenKind, number>>>, worst: WorstCase): TokenKind {
  let kind: TokenKind = 'text';
  const dearer = (k: TokenKind) => (rates[k] ?? 0) > (rates[kind] ?? 0);
  if (dearer('write')) kind = 'write';
  if (worst.audio && dearer('audio')) kind = 'audio';
  if (worst.images && dearer('image')) kind = 'image';
  return kind;
}

/**
 * The usage of a call's worst case: every prompt token uncached, every completion token used, each
 * side priced at the dearest of text and the kinds the call carries (audio, image; on the input side a
 * cache write too, when writes cost more than input), every image, character and second billed.
 */
export function worstCaseUsage(price: CallPrice, worst: WorstCase): TokenUsage {
  const base = {
    prompt_tokens: worst.promptTokens,
    completion_tokens: worst.completionTokens,
    ...(worst.billedImages ? { images: worst.billedImages } : {}),
    ...(worst.billedCharacters ? { characters: worst.billedCharacters } : {}),
    ...(worst.billedSeconds ? { seconds: worst.billedSeconds } : {}),
  };
  const input = dearest(
    {
      text: price.inputUsdPer1M,
      write: price.cacheWriteUsdPer1M,
      audio: price.audioInputUsdPer1M,
      image: price.imageInputUsdPer1M,
    },
    worst,
  );
  if (!worst.audio && !worst.images && input === 'text') return base;
  const output = dearest(
    { text: price.outputUsdPer1M, audio: price.audioOutputUsdPer1M, image: price.imageOutputUsdPer1M },
    worst,
  );
  const share = (kind: TokenKind, of: TokenKind, tokens: number) => (kind === of ? tokens : 0);
  return {
    ...base,
    prompt_tokens_details: {
      audio_tokens: share(input, 'audio', worst.promptTokens),
      image_tokens: share(input, 'image', worst.promptTokens),
      cache_write_tokens: share(input, 'write', worst.promptTokens),
    },
    completion_tokens_details: {
      audio_tokens: share(output, 'audio', worst.completionTokens),
      image_tokens: share(output, 'image', worst.completionTokens),
    },
  };
}

/** Worst-case cost in nano-dollars of a request before it runs (see `worstCaseUsage`). */
export function worstCaseCostNanos(price: CallPrice, worst: WorstCase): number {
  return costNanos(price, worstCaseUsage(price, worst));
}
