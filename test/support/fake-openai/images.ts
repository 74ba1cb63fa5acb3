/**
 * `POST /v1/images/generations` (JSON) and `POST /v1/images/edits` (multipart: `image` or `image[]`,
 * `mask`), answered as an `ImagesResponse`, or, with `stream: true` on the GPT image models, as typed
 * events: `partial_images` partial images then a completed event per image (with its usage). What the
 * fake bills, as OpenAI's image guide describes it:
 *
 * - GPT image models by tokens: the prompt's text, IMAGE_INPUT_TOKENS per input image (more at
 *   `input_fidelity: high`), and the output tokens of each image by quality and size (OUTPUT_TOKENS;
 *   `auto` is billed as the dearest), plus PARTIAL_IMAGE_TOKENS per partial image;
 * - dall-e-2 and dall-e-3 by the image, at its `quality:size` (recorded in `billed[].images`).
 *
 * gpt-image-1 reports its usage without `output_tokens_details` (all output tokens are image tokens);
 * the newer models report the details.
 */
import { cutConnection, openSse, sendError, sendJson, writeSse } from './http';
import { refuseUnknownFormField, refuseUnknownParameter } from './parameters';
import type { BilledEndpoint, Endpoint, EndpointContext } from './types';
import { countTokens, usageOf, type Usage } from './usage';
import { nowSeconds } from './wire';

/** Output tokens of one image by quality and size (gpt-image-1's table). */
export const OUTPUT_TOKENS: Readonly<Record<string, Readonly<Record<string, number>>>> = {
  low: { '1024x1024': 272, '1024x1536': 408, '1536x1024': 400 },
  medium: { '1024x1024': 1_056, '1024x1536': 1_584, '1536x1024': 1_568 },
  high: { '1024x1024': 4_160, '1024x1536': 6_240, '1536x1024': 6_208 },
};
/** Output tokens a partial image adds. */
export const PARTIAL_IMAGE_TOKENS = 100;
/** Input tokens of one input image at low fidelity, and what high fidelity adds. */
export const IMAGE_INPUT_TOKENS = 323;
export const HIGH_FIDELITY_TOKENS = 4_160;

/** Sizes and qualities of the models billed by the image; the first of each is the default. */
const PER_IMAGE_MODELS: Readonly<Record<string, { sizes: string[]; qualities: string[]; maxN: number }>> = {
  'dall-e-2': { sizes: ['1024x1024', '512x512', '256x256'], qualities: ['standard'], maxN: 10 },
  'dall-e-3': { sizes: ['1024x1024', '1792x1024', '1024x1792'], qualities: ['standard', 'hd'], maxN: 1 },
};

/** A 1x1 transparent PNG, padded to `bytes`. */
function imageData(bytes: number): string {
  const png = Buffer.from(
    'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=',
    'base64',
  );
  return Buffer.concat([png, Buffer.alloc(Math.max(0, bytes - png.length))]).toString('base64');
}

/** Parameters of either request shape, as strings or numbers. */
interface ImageRequest {
  readonly model: string;
  readonly prompt: string;
  readonly n: number;
  readonly size: string;
  readonly quality: string;
  readonly stream: boolean;
  readonly partialImages: number;
  readonly inputImages: number;
  readonly highFidelity: boolean;
  readonly responseFormat: string;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const int = (v: unknown): number | undefined =>
  typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : undefined;

function readRequest(fields: Record<string, unknown>, inputImages: number): ImageRequest | string {
  const prompt = str(fields.prompt);
  if (!prompt) return 'prompt';
  const model = str(fields.model) ?? (inputImages > 0 ? 'gpt-image-1.5' : 'dall-e-2');
  const n = int(fields.n) ?? 1;
  if (n < 1 || n > 10) return 'n';
  const partialImages = int(fields.partial_images) ?? 0;
  if (partialImages < 0 || partialImages > 3) return 'partial_images';
  return {
    model,
    prompt,
    n,
    size: str(fields.size) ?? 'auto',
    quality: str(fields.quality) ?? 'auto',
    stream: fields.stream === true || fields.stream === 'true',
    partialImages,
    inputImages,
    highFidelity: fields.input_fidelity === 'high',
    responseFormat: str(fields.response_format) ?? 'url',
  };
}

/** Output tokens of one image of a GPT image model, or the param at fault. */
function outputTokens(r: ImageRequest): number | string {
  const quality = r.quality === 'auto' ? 'high' : r.quality;
  const bySize = OUTPUT_TOKENS[quality];
  if (!bySize) return 'quality';
  const size = r.size === 'auto' ? '1024x1536' : r.size;
  return bySize[size] ?? 'size';
}

/** The usage of a GPT image call, in chat names (for the ledger) and in the Images API's names. */
function tokenUsage(r: ImageRequest, perImage: number) {
  const text = countTokens(r.prompt);
  const image = r.inputImages * (IMAGE_INPUT_TOKENS + (r.highFidelity ? HIGH_FIDELITY_TOKENS : 0));
  const output = r.n * (perImage + r.partialImages * PARTIAL_IMAGE_TOKENS);
  const base = usageOf(text + image, output);
  const ledger: Usage = {
    ...base,
    prompt_tokens_details: { ...base.prompt_tokens_details, image_tokens: image },
    completion_tokens_details: { ...base.completion_tokens_details, image_tokens: output },
  };
  const wire = (outTokens: number, inText: number, inImage: number) => ({
    input_tokens: inText + inImage,
    input_tokens_details: { text_tokens: inText, image_tokens: inImage },
    output_tokens: outTokens,
    total_tokens: inText + inImage + outTokens,
    ...(r.model === 'gpt-image-1'
      ? {}
      : { output_tokens_details: { image_tokens: outTokens, text_tokens: 0 } }),
  });
  return { ledger, wire, text, image, output };
}

/**
 * What the fake bills for an image request body (its fields as JSON values or form strings) with
 * `inputImages` images to edit: the ledger usage and, on per-image models, the images. Undefined when
 * the fake would refuse the request.
 */
export function imageBillOf(
  fields: Record<string, unknown>,
  inputImages = 0,
): { readonly usage: Usage; readonly images?: { count: number; variant: string } } | undefined {
  const r = readRequest(fields, inputImages);
  if (typeof r === 'string') return undefined;
  const perImageModel = PER_IMAGE_MODELS[r.model];
  if (perImageModel) {
    const size = r.size === 'auto' ? perImageModel.sizes[0] : r.size;
    const quality = r.quality === 'auto' ? perImageModel.qualities[0] : r.quality;
    return { usage: usageOf(0, 0), images: { count: r.n, variant: `${quality}:${size}` } };
  }
  const perImage = outputTokens(r);
  return typeof perImage === 'string' ? undefined : { usage: tokenUsage(r, perImage).ledger };
}

async function answer(ctx: EndpointContext, r: ImageRequest, endpoint: BilledEndpoint): Promise<void> {
  const { res, behaviour } = ctx;
  const kind = endpoint === 'images.edits' ? 'image_edit' : 'image_generation';
  const b64 = imageData(behaviour.imageBytes);
  const perImageModel = PER_IMAGE_MODELS[r.model];
  if (perImageModel) {
    const size = r.size === 'auto' ? perImageModel.sizes[0] : r.size;
    const quality = r.quality === 'auto' ? perImageModel.qualities[0] : r.quality;
    if (!perImageModel.sizes.includes(size)) return sendError(res, 400, 'Invalid size.', { param: 'size' });
    if (!perImageModel.qualities.includes(quality))
      return sendError(res, 400, 'Invalid quality.', { param: 'quality' });
    if (r.n > perImageModel.maxN) return sendError(res, 400, 'Invalid n.', { param: 'n' });
    if (r.stream)
      return sendError(res, 400, 'Streaming is not supported for this model.', { param: 'stream' });
    ctx.bill({
      model: r.model,
      usage: usageOf(0, 0),
      endpoint,
      images: { count: r.n, variant: `${quality}:${size}` },
    });
    const image = (i: number) =>
      r.responseFormat === 'b64_json'
        ? { b64_json: b64, revised_prompt: r.model === 'dall-e-3' ? r.prompt : undefined }
        : { url: `https://fake-openai.invalid/images/${i}.png` };
    return sendJson(res, 200, {
      created: nowSeconds(),
      data: Array.from({ length: r.n }, (_, i) => image(i)),
    });
  }
  const perImage = outputTokens(r);
  if (typeof perImage === 'string') return sendError(res, 400, `Invalid ${perImage}.`, { param: perImage });
  const usage = tokenUsage(r, perImage);
  ctx.bill({ model: r.model, usage: usage.ledger, endpoint });
  const shape = {
    background: 'opaque',
    output_format: 'png',
    quality: r.quality === 'auto' ? 'high' : r.quality,
    size: r.size === 'auto' ? '1024x1536' : r.size,
  };
  if (!r.stream) {
    return sendJson(res, 200, {
      created: nowSeconds(),
      ...shape,
      data: Array.from({ length: r.n }, () => ({ b64_json: b64 })),
      usage: usage.wire(usage.output, usage.text, usage.image),
    });
  }
  if (!openSse(res)) return;
  const each = usage.output / r.n;
  const events: Array<[string, Record<string, unknown>]> = [];
  for (let i = 0; i < r.n; i++) {
    for (let p = 0; p < r.partialImages; p++) {
      const event = `${kind}.partial_image`;
      events.push([
        event,
        { type: event, b64_json: b64, created_at: nowSeconds(), ...shape, partial_image_index: p },
      ]);
    }
    // The input is billed once: the first image's usage carries it.
    const event = `${kind}.completed`;
    const wire = usage.wire(each, i === 0 ? usage.text : 0, i === 0 ? usage.image : 0);
    events.push([event, { type: event, b64_json: b64, created_at: nowSeconds(), ...shape, usage: wire }]);
  }
  for (const [i, [event, data]] of events.entries()) {
    if (ctx.scripted.cutAfterChunks !== undefined && i >= ctx.scripted.cutAfterChunks) {
      // What was written reaches the client, then the connection drops (the images were billed).
      ctx.markCut();
      return cutConnection(res);
    }
    writeSse(res, data, event);
  }
  res.end();
}

async function generations(ctx: EndpointContext): Promise<void> {
  const body = ctx.request.body as Record<string, unknown> | undefined;
  if (refuseUnknownParameter(ctx.res, body, 'images.generate')) return;
  const r = readRequest(body ?? {}, 0);
  if (typeof r === 'string') return sendError(ctx.res, 400, `Invalid value for '${r}'.`, { param: r });
  return answer(ctx, r, 'images.generations');
}

async function edits(ctx: EndpointContext): Promise<void> {
  const { res, request } = ctx;
  const form = request.form;
  if (!form) return sendError(res, 400, "Missing required parameter: 'image'.", { param: 'image' });
  const names = [...Object.keys(form.fields), ...form.files.map((f) => f.field)];
  if (refuseUnknownFormField(res, names, 'images.edit')) return;
  const images = form.files.filter((f) => f.field === 'image' || f.field === 'image[]');
  if (images.length === 0)
    return sendError(res, 400, "Missing required parameter: 'image'.", { param: 'image' });
  const r = readRequest(form.fields, images.length);
  if (typeof r === 'string') return sendError(res, 400, `Invalid value for '${r}'.`, { param: r });
  return answer(ctx, r, 'images.edits');
}

export const imageEndpoints: readonly Endpoint[] = [
  { method: 'POST', path: '/v1/images/generations', handle: generations, billsWhenAbandoned: true },
  { method: 'POST', path: '/v1/images/edits', handle: edits, billsWhenAbandoned: true },
];
