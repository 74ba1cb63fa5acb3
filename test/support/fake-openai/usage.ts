/**
 * Token counting and usage shapes, the one place every endpoint of the fake bills from: chat messages
 * and Responses items are counted by the same rules (text by length, images at their high-detail
 * maximum, anything else as JSON, a framing per message), so a call costs the same on either API.
 */

/** Chat and completions usage, as OpenAI reports it (and as the fake's `billed` ledger records every call). */
export interface Usage {
  readonly prompt_tokens: number;
  readonly completion_tokens: number;
  readonly total_tokens: number;
  readonly prompt_tokens_details: {
    readonly cached_tokens: number;
    readonly cache_write_tokens: number;
    readonly audio_tokens: number;
    /** Image input tokens (image edits). @default 0 */
    readonly image_tokens?: number;
  };
  readonly completion_tokens_details: {
    readonly reasoning_tokens: number;
    readonly audio_tokens: number;
    /** Image output tokens (image generation). @default 0 */
    readonly image_tokens?: number;
    readonly accepted_prediction_tokens: number;
    readonly rejected_prediction_tokens: number;
  };
}

/** The Responses API's usage object. */
export interface ResponseUsage {
  readonly input_tokens: number;
  readonly input_tokens_details: { readonly cached_tokens: number; readonly cache_write_tokens: number };
  readonly output_tokens: number;
  readonly output_tokens_details: { readonly reasoning_tokens: number };
  readonly total_tokens: number;
}

/** A scripted usage, in chat names or in Responses names. */
export type ScriptedUsage =
  | {
      readonly prompt_tokens: number;
      readonly completion_tokens: number;
      /** Part of `prompt_tokens`, read from the prompt cache. @default 0 */
      readonly cached_tokens?: number;
      /** Part of `prompt_tokens`, written to the prompt cache. @default 0 */
      readonly cache_write_tokens?: number;
    }
  | {
      readonly input_tokens: number;
      readonly output_tokens: number;
      /** Part of `output_tokens`. @default 0 */
      readonly reasoning_tokens?: number;
      /** Part of `input_tokens`. @default 0 */
      readonly cached_tokens?: number;
      /** Part of `input_tokens`, written to the prompt cache. @default 0 */
      readonly cache_write_tokens?: number;
    };

/**
 * What a call consumed, whatever the API names it. `reasoning` is part of `output`; `cached` and
 * `cacheWrite` (prompt-cache reads and writes) are parts of `input`.
 */
export interface TokenCounts {
  readonly input: number;
  readonly output: number;
  readonly reasoning: number;
  readonly cached: number;
  /** @default 0 */
  readonly cacheWrite?: number;
}

/** A rough, deterministic token count: one token per 4 characters, at least 1. */
export function countTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

/** Tokens of text inside a prompt (an empty string costs nothing there). */
const textTokens = (text: string): number => Math.ceil(text.length / 4);

/** What one image bills at high detail: gpt-4o-mini's tiles (2,833 + 8 x 5,667), else gpt-4o's (85 + 8 x 170). */
export const imageTokensOf = (model: string): number =>
  model.includes('mini') ? 2_833 + 8 * 5_667 : 85 + 8 * 170;

/** Reasoning models (o1, o3, o4-mini, gpt-5...) spend reasoning tokens inside their output tokens. */
export const isReasoningModel = (model: string): boolean => /^(o\d|gpt-[56])/.test(model);

const IMAGE_PARTS = new Set(['image_url', 'input_image']);
const FILE_PARTS = new Set(['file', 'input_file']);

/** Pages assumed for a file the fake cannot read (a `file_id`). */
export const UNREAD_FILE_PAGES = 10;
/** Text tokens the fake bills per PDF page, besides the page's image. */
export const FILE_PAGE_TEXT_TOKENS = 250;

/**
 * Pages of a file part: OpenAI bills a PDF as its text plus an image of every page. Inline data is
 * read for its `/Type /Page` objects, so a few bytes can hold many pages, as a real PDF can.
 */
function filePages(part: Record<string, unknown>): number {
  const file = (part.file ?? part) as Record<string, unknown>;
  const data = typeof file.file_data === 'string' ? file.file_data : undefined;
  if (data === undefined) return UNREAD_FILE_PAGES;
  const text = Buffer.from(data.slice(data.indexOf(',') + 1), 'base64').toString('latin1');
  return Math.max(1, (text.match(/\/Type\s*\/Page(?!s)/g) ?? []).length);
}
const TEXT_PARTS = new Set(['text', 'input_text', 'output_text']);

/** Tokens of one content part, chat's (`text`, `image_url`) or Responses' (`input_text`, `input_image`, `output_text`). */
function partTokens(part: unknown, model: string): number {
  if (typeof part === 'string') return textTokens(part);
  const p = (part ?? {}) as Record<string, unknown>;
  if (typeof p.type === 'string' && IMAGE_PARTS.has(p.type)) return imageTokensOf(model);
  if (typeof p.type === 'string' && FILE_PARTS.has(p.type))
    return filePages(p) * (imageTokensOf(model) + FILE_PAGE_TEXT_TOKENS);
  if (typeof p.type === 'string' && TEXT_PARTS.has(p.type) && typeof p.text === 'string')
    return textTokens(p.text);
  return textTokens(JSON.stringify(part));
}

/** Tokens of a message's `content` (or a tool output): a string, a list of parts, or anything else as JSON. */
function contentTokens(content: unknown, model: string): number {
  if (content == null) return 0;
  if (typeof content === 'string') return textTokens(content);
  if (Array.isArray(content)) return content.reduce((sum: number, p) => sum + partTokens(p, model), 0);
  return textTokens(JSON.stringify(content));
}

/**
 * Tokens of one chat message or Responses input item: 4 of framing, its content (or a tool's output,
 * or a call's arguments), and any other field (tool calls, names, call ids) as JSON. Ids, types and
 * statuses are bookkeeping, not prompt.
 */
export function itemTokens(item: unknown, model: string): number {
  if (typeof item === 'string') return 4 + textTokens(item);
  const {
    role: _role,
    type: _type,
    id: _id,
    status: _status,
    content,
    output,
    arguments: args,
    ...rest
  } = (item ?? {}) as Record<string, unknown>;
  let tokens = 4 + contentTokens(content, model) + contentTokens(output, model);
  if (typeof args === 'string') tokens += textTokens(args);
  if (Object.keys(rest).length > 0) tokens += textTokens(JSON.stringify(rest));
  return tokens;
}

/** Body fields OpenAI bills as prompt tokens besides the messages: tool definitions, schemas, predictions. */
const BILLED_FIELDS = [
  'tools',
  'functions',
  'tool_choice',
  'response_format',
  'prediction',
  'text',
  'prompt',
];

function billedFieldTokens(body: Record<string, unknown>, exclude: readonly string[] = []): number {
  let tokens = 0;
  for (const field of BILLED_FIELDS)
    if (body[field] != null && !exclude.includes(field)) tokens += textTokens(JSON.stringify(body[field]));
  return tokens;
}

/**
 * Prompt tokens of a chat request as OpenAI bills them: the text of every message, its tool calls,
 * the tool definitions and response schema, each image at its high-detail maximum, and the framing.
 */
export function promptTokensOf(body: Record<string, unknown>): number {
  const messages = Array.isArray(body.messages) ? body.messages : [];
  const model = String(body.model);
  // `prompt` is a legacy completions field; on chat only the fields chat knows are billed.
  let tokens = 3 + billedFieldTokens(body, ['text', 'prompt']);
  for (const m of messages) tokens += itemTokens(m, model);
  return tokens;
}

/**
 * Input tokens of a Responses call: the instructions, every item of the context (the stored
 * conversation before the call, then its input), the tool definitions, tool choice and text format.
 */
export function responsesInputTokensOf(body: Record<string, unknown>, items: readonly unknown[]): number {
  const model = String(body.model ?? '');
  const { instructions } = body;
  let tokens = 3 + billedFieldTokens(body);
  if (typeof instructions === 'string' && instructions.length > 0) tokens += itemTokens(instructions, model);
  if (Array.isArray(instructions)) for (const i of instructions) tokens += itemTokens(i, model);
  for (const item of items) tokens += itemTokens(item, model);
  return tokens;
}

/** Counts a scripted usage overrides, in whichever names the test wrote it. */
export function scriptedCounts(usage: ScriptedUsage | undefined): Partial<TokenCounts> {
  if (!usage) return {};
  if ('prompt_tokens' in usage)
    return {
      input: usage.prompt_tokens,
      output: usage.completion_tokens,
      cached: usage.cached_tokens ?? 0,
      cacheWrite: usage.cache_write_tokens ?? 0,
    };
  return {
    input: usage.input_tokens,
    output: usage.output_tokens,
    reasoning: usage.reasoning_tokens ?? 0,
    cached: usage.cached_tokens ?? 0,
    cacheWrite: usage.cache_write_tokens ?? 0,
  };
}

export function usageOf(
  promptTokens: number,
  completionTokens: number,
  details: { readonly cached?: number; readonly cacheWrite?: number; readonly reasoning?: number } = {},
): Usage {
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
    prompt_tokens_details: {
      cached_tokens: details.cached ?? 0,
      cache_write_tokens: details.cacheWrite ?? 0,
      audio_tokens: 0,
    },
    completion_tokens_details: {
      reasoning_tokens: details.reasoning ?? 0,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
}

/** Counts in chat names, for the `billed` ledger. */
export const chatUsageOf = (c: TokenCounts): Usage =>
  usageOf(c.input, c.output, { cached: c.cached, cacheWrite: c.cacheWrite, reasoning: c.reasoning });

/** Counts in Responses names. */
export const responseUsageOf = (c: TokenCounts): ResponseUsage => ({
  input_tokens: c.input,
  input_tokens_details: { cached_tokens: c.cached, cache_write_tokens: c.cacheWrite ?? 0 },
  output_tokens: c.output,
  output_tokens_details: { reasoning_tokens: c.reasoning },
  total_tokens: c.input + c.output,
});
