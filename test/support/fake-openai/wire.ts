/**
 * Bodies in OpenAI's wire format, as the real API sends them (field order and nulls included), so the
 * gateway and the `openai` SDK are exercised against what production returns.
 */
import { randomBytes } from 'node:crypto';
import { flowingClock } from '../clock';

export interface Usage {
  readonly prompt_tokens: number;
  readonly completion_tokens: number;
  readonly total_tokens: number;
  readonly prompt_tokens_details: { readonly cached_tokens: number; readonly audio_tokens: number };
  readonly completion_tokens_details: {
    readonly reasoning_tokens: number;
    readonly audio_tokens: number;
    readonly accepted_prediction_tokens: number;
    readonly rejected_prediction_tokens: number;
  };
}

export const SYSTEM_FINGERPRINT = 'fp_fake0openai';

export const newId = (prefix: string): string => `${prefix}-${randomBytes(12).toString('base64url')}`;
/** OpenAI's `created` seconds, from the tests' mid-month clock: no answer carries today's date. */
export const nowSeconds = (): number => Math.floor(flowingClock() / 1000);

/** A rough, deterministic token count: one token per 4 characters, at least 1. */
export function countTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

/** What one image bills at high detail: gpt-4o-mini's tiles (2,833 + 8 x 5,667), else gpt-4o's (85 + 8 x 170). */
export const imageTokensOf = (model: string): number =>
  model.includes('mini') ? 2_833 + 8 * 5_667 : 85 + 8 * 170;

/** Body fields OpenAI bills as prompt tokens besides the messages. */
const BILLED_FIELDS = ['tools', 'functions', 'tool_choice', 'response_format', 'prediction'];

/**
 * Prompt tokens of a chat request as OpenAI bills them: the text of every message, its tool calls,
 * the tool definitions and response schema, each image at its high-detail maximum, and the framing.
 */
export function promptTokensOf(body: Record<string, unknown>): number {
  const messages = Array.isArray(body.messages) ? body.messages : [];
  const model = String(body.model);
  let tokens = 3;
  const textTokens = (text: string) => Math.ceil(text.length / 4);
  for (const m of messages as Array<Record<string, unknown>>) {
    const { role: _role, content, ...rest } = m ?? {};
    tokens += 4;
    if (typeof content === 'string') tokens += textTokens(content);
    else if (Array.isArray(content)) {
      for (const part of content as Array<Record<string, unknown>>) {
        if (part?.type === 'image_url') tokens += imageTokensOf(model);
        else if (part?.type === 'text' && typeof part.text === 'string') tokens += textTokens(part.text);
        else tokens += textTokens(JSON.stringify(part));
      }
    } else if (content != null) tokens += textTokens(JSON.stringify(content));
    if (Object.keys(rest).length > 0) tokens += textTokens(JSON.stringify(rest));
  }
  for (const field of BILLED_FIELDS)
    if (body[field] != null) tokens += textTokens(JSON.stringify(body[field]));
  return tokens;
}

export function usageOf(promptTokens: number, completionTokens: number): Usage {
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: 0,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
}

/** Splits `text` into `count` pieces (some may be empty when the text is short); joined they give `text` back. */
export function splitText(text: string, count: number): string[] {
  const n = Math.max(1, count);
  const size = Math.ceil(text.length / n);
  const pieces: string[] = [];
  for (let i = 0; i < n; i++) pieces.push(text.slice(i * size, (i + 1) * size));
  return pieces;
}

export function chatCompletion(opts: {
  id: string;
  model: string;
  text: string;
  n: number;
  usage: Usage;
  finishReason: string;
}): Record<string, unknown> {
  return {
    id: opts.id,
    object: 'chat.completion',
    created: nowSeconds(),
    model: opts.model,
    choices: Array.from({ length: opts.n }, (_, index) => ({
      index,
      message: { role: 'assistant', content: opts.text, refusal: null, annotations: [] },
      logprobs: null,
      finish_reason: opts.finishReason,
    })),
    usage: opts.usage,
    service_tier: 'default',
    system_fingerprint: SYSTEM_FINGERPRINT,
  };
}

/** One `chat.completion.chunk`; `usage: null` is present on every chunk when the caller asked for usage, as upstream does. */
export function chatChunk(opts: {
  id: string;
  created: number;
  model: string;
  choices: unknown[];
  includeUsage: boolean;
  usage?: Usage;
}): Record<string, unknown> {
  const chunk: Record<string, unknown> = {
    id: opts.id,
    object: 'chat.completion.chunk',
    created: opts.created,
    model: opts.model,
    service_tier: 'default',
    system_fingerprint: SYSTEM_FINGERPRINT,
    choices: opts.choices,
  };
  if (opts.includeUsage) chunk.usage = opts.usage ?? null;
  return chunk;
}

export const deltaChoice = (
  index: number,
  delta: Record<string, unknown>,
  finishReason: string | null = null,
) => ({
  index,
  delta,
  logprobs: null,
  finish_reason: finishReason,
});

/** A deterministic unit vector derived from the input text. */
export function embeddingVector(text: string, dimensions: number): number[] {
  let seed = 2166136261;
  for (let i = 0; i < text.length; i++) seed = Math.imul(seed ^ text.charCodeAt(i), 16777619) >>> 0;
  const v: number[] = [];
  let norm = 0;
  for (let i = 0; i < dimensions; i++) {
    seed = Math.imul(seed ^ (seed >>> 15), 2246822507) >>> 0;
    const x = (seed / 0xffffffff) * 2 - 1;
    v.push(x);
    norm += x * x;
  }
  const scale = 1 / Math.sqrt(norm || 1);
  return v.map((x) => Math.fround(x * scale));
}

/** Float32 little-endian bytes in base64: what `encoding_format: "base64"` returns (the SDK's default). */
export function embeddingBase64(vector: number[]): string {
  const buf = Buffer.alloc(vector.length * 4);
  vector.forEach((x, i) => buf.writeFloatLE(x, i * 4));
  return buf.toString('base64');
}

export const MODERATION_CATEGORIES = [
  'harassment',
  'harassment/threatening',
  'hate',
  'hate/threatening',
  'illicit',
  'illicit/violent',
  'self-harm',
  'self-harm/intent',
  'self-harm/instructions',
  'sexual',
  'sexual/minors',
  'violence',
  'violence/graphic',
] as const;

export function moderationResult(flagged: boolean): Record<string, unknown> {
  const categories: Record<string, boolean> = {};
  const scores: Record<string, number> = {};
  const applied: Record<string, string[]> = {};
  for (const c of MODERATION_CATEGORIES) {
    const hit = flagged && c === 'violence';
    categories[c] = hit;
    scores[c] = hit ? 0.97 : 0.0001;
    applied[c] = ['text'];
  }
  return { flagged, categories, category_scores: scores, category_applied_input_types: applied };
}

export function errorBody(message: string, type: string, code: string | null, param: string | null = null) {
  return { error: { message, type, param, code } };
}
