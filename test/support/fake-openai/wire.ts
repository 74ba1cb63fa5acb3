/**
 * Bodies in OpenAI's wire format, as the real API sends them (field order and nulls included), so the
 * gateway and the `openai` SDK are exercised against what production returns.
 */
import { randomBytes } from 'node:crypto';
import { flowingClock } from '../clock';
import type { Usage } from './usage';

export { countTokens, imageTokensOf, promptTokensOf, usageOf, type ScriptedUsage, type Usage } from './usage';

export const SYSTEM_FINGERPRINT = 'fp_fake0openai';

/**
 * A fresh OpenAI-style id. The older APIs join with a dash (`chatcmpl-…`, `cmpl-…`, `req-…`); the
 * Responses and Conversations APIs with an underscore and hex (`resp_…`, `msg_…`, `fc_…`, `conv_…`).
 */
export const newId = (prefix: string, separator: '-' | '_' = '-'): string =>
  separator === '-'
    ? `${prefix}-${randomBytes(12).toString('base64url')}`
    : `${prefix}_${randomBytes(24).toString('hex')}`;
/** OpenAI's `created` seconds, from the tests' mid-month clock: no answer carries today's date. */
export const nowSeconds = (): number => Math.floor(flowingClock() / 1000);

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

/** The categories omni-moderation also classifies images for. */
const IMAGE_CATEGORIES: ReadonlySet<string> = new Set([
  'self-harm',
  'self-harm/intent',
  'self-harm/instructions',
  'sexual',
  'violence',
  'violence/graphic',
]);

/** One moderation result; `withImage` lists `image` among the input types of the image categories. */
export function moderationResult(flagged: boolean, withImage = false): Record<string, unknown> {
  const categories: Record<string, boolean> = {};
  const scores: Record<string, number> = {};
  const applied: Record<string, string[]> = {};
  for (const c of MODERATION_CATEGORIES) {
    const hit = flagged && c === 'violence';
    categories[c] = hit;
    scores[c] = hit ? 0.97 : 0.0001;
    applied[c] = withImage && IMAGE_CATEGORIES.has(c) ? ['text', 'image'] : ['text'];
  }
  return { flagged, categories, category_scores: scores, category_applied_input_types: applied };
}

export function errorBody(message: string, type: string, code: string | null, param: string | null = null) {
  return { error: { message, type, param, code } };
}
