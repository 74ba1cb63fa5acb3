/**
 * The prompt estimate every model endpoint shares: text and JSON at 3 bytes a token, each piece
 * rounded up on its own (a tokenizer never shares a token across two fields), and the inputs
 * whose bytes say nothing about what they bill counted apart (an image at the most one image can bill
 * on the model, a file at the most one file can bill). Content parts of both wire formats are read:
 * Chat Completions (`text`, `image_url`, `input_audio`, `file`) and Responses (`input_text`,
 * `input_image`, `input_file`, `input_audio`).
 */
import {
  CONTEXT_WINDOW_TOKENS,
  DEFAULT_FILE_TOKENS,
  DEFAULT_IMAGE_TOKENS,
  type ModelPrice,
} from '../../runtime/gateway-config';
import { invalidRequest } from '../errors';
import { BYTES_PER_TOKEN, contentBytes, isObject } from './fields';

/** What a prompt estimate adds up, filled in by `addContent` and `addJson`. */
export interface PromptSize {
  /** Tokens of the text and JSON read so far, each piece rounded up. */
  textTokens: number;
  images: number;
  files: number;
  /** Audio is read (`input_audio` parts) or asked for: priced at the model's audio rates. */
  audio: boolean;
}

export const emptyPromptSize = (): PromptSize => ({ textTokens: 0, images: 0, files: 0, audio: false });

const IMAGE_PARTS: ReadonlySet<string> = new Set(['image_url', 'input_image']);
const FILE_PARTS: ReadonlySet<string> = new Set(['file', 'input_file']);
const TEXT_PARTS: ReadonlySet<string> = new Set(['text', 'input_text', 'output_text']);

const jsonBytes = (value: unknown): number => Buffer.byteLength(JSON.stringify(value));

/** One piece of text or JSON of `bytes` bytes. */
function addBytes(size: PromptSize, bytes: number): void {
  size.textTokens += Math.ceil(bytes / BYTES_PER_TOKEN);
}

/** The bytes of any JSON value the model reads (a tool definition, a schema, an earlier item). */
export function addJson(size: PromptSize, value: unknown): void {
  if (value !== undefined && value !== null) addBytes(size, jsonBytes(value));
}

/** One content part: images and files by count (their bytes say nothing), audio by its bytes. */
function addPart(size: PromptSize, part: unknown): void {
  const type = isObject(part) && typeof part.type === 'string' ? part.type : undefined;
  if (type !== undefined && IMAGE_PARTS.has(type)) size.images++;
  else if (type !== undefined && FILE_PARTS.has(type)) size.files++;
  else if (
    type !== undefined &&
    TEXT_PARTS.has(type) &&
    typeof (part as { text?: unknown }).text === 'string'
  )
    addBytes(size, Buffer.byteLength((part as { text: string }).text));
  else {
    // Base64 audio at 3 bytes a token is far above the tokens a second of audio bills.
    if (type === 'input_audio') size.audio = true;
    addBytes(size, jsonBytes(part));
  }
}

/** A content value: a string, or an array of parts. */
export function addContent(size: PromptSize, content: unknown): void {
  if (Array.isArray(content)) for (const part of content) addPart(size, part);
  else addBytes(size, contentBytes(content));
}

/**
 * Prompt tokens to reserve for `size` on a model: text at 3 bytes a token, images and files at the
 * model's worst case each. @throws GatewayError 400 when the call carries audio the model has no price for
 */
export function promptTokensOf(size: PromptSize, model: { name: string; price: ModelPrice }): number {
  if (size.audio && model.price.audioInputUsdPer1M === undefined) {
    throw invalidRequest(
      `Audio is not available for model '${model.name}' through this gateway: it has no audio price.`,
      'model',
      'unsupported_value',
    );
  }
  return (
    size.textTokens +
    size.images * (model.price.imageTokens ?? DEFAULT_IMAGE_TOKENS) +
    size.files * (model.price.fileTokens ?? DEFAULT_FILE_TOKENS)
  );
}

/**
 * Tokens `size` may bill on whichever configured model reads it later (a conversation's items are read
 * by every response in it, on any model): images and files at the most any model bills them, audio at
 * its bytes; never above a context window.
 */
export function contextTokensOf(size: PromptSize, models: Readonly<Record<string, ModelPrice>>): number {
  const prices = Object.values(models);
  const most = (field: 'imageTokens' | 'fileTokens', fallback: number) =>
    Math.max(fallback, ...prices.map((p) => p[field] ?? fallback));
  const tokens =
    size.textTokens +
    size.images * most('imageTokens', DEFAULT_IMAGE_TOKENS) +
    size.files * most('fileTokens', DEFAULT_FILE_TOKENS);
  return Math.min(tokens, CONTEXT_WINDOW_TOKENS);
}
