/**
 * Image generation and edits: `POST /v1/images/generations` (JSON in) and `POST /v1/images/edits`
 * (multipart in: `image` or `image[]`, an optional `mask`), answered in JSON, or as typed SSE events
 * with `partial_images` when `stream` is true. Two ways a model bills, each from the model's price:
 *
 * - by tokens (gpt-image models, `imageOutputTokens` set): the prompt's text, every input image at the
 *   model's `imageTokens`, and `n` x (`imageOutputTokens` + PARTIAL_IMAGE_TOKENS per partial image) of
 *   output are reserved; the call is metered from the usage upstream reports;
 * - by the image (dall-e-2, dall-e-3, `imageUsd` set): `n` images at the dearest price the asked
 *   `quality` and `size` may mean (`auto` or absent may mean any) are reserved; the call is metered by
 *   the images returned at that price.
 *
 * `n` is capped by `limits.maxN` (and OpenAI's 10). `model` is required: OpenAI's default depends on
 * the other parameters, and the gateway must know the model it reserves for. The end-user id (`user`)
 * becomes the per-client safety identifier. Not cached: image models are not deterministic.
 */
import type { ModelPrice } from '../../runtime/gateway-config';
import { DEFAULT_IMAGE_TOKENS } from '../../runtime/gateway-config';
import { parseJsonObject } from '../../runtime/json';
import { PARTIAL_IMAGE_TOKENS, readImageUsage, type TokenUsage } from '../../runtime/pricing';
import { invalidRequest } from '../errors';
import { MultipartBody, type UploadedFile } from '../http/multipart';
import { checkKnownParameters, objectBody, safetyIdentifier, textTokens, type Body } from './fields';
import { ImagesStreamReader } from './images-stream';
import type { EndpointSpec, PrepareInput, PreparedCall } from './spec';

/** Most images one call may ask for, as OpenAI allows. */
export const MAX_IMAGES_PER_CALL = 10;
/** Most partial images a streamed call may ask for, as OpenAI allows. */
export const MAX_PARTIAL_IMAGES = 3;
/** Most input images of an edit, as OpenAI allows. */
export const MAX_EDIT_IMAGES = 16;

/** Parameters both image endpoints take. */
const IMAGE_PARAMETERS = [
  'background',
  'model',
  'n',
  'output_compression',
  'output_format',
  'partial_images',
  'prompt',
  'quality',
  'response_format',
  'size',
  'stream',
  'user',
];
const GENERATION_PARAMETERS: ReadonlySet<string> = new Set([...IMAGE_PARAMETERS, 'moderation', 'style']);
const EDIT_PARAMETERS: ReadonlySet<string> = new Set([
  ...IMAGE_PARAMETERS,
  'image',
  'input_fidelity',
  'mask',
]);

/** A body's parameters in one shape, whichever way it came: JSON values, or multipart text fields. */
interface ImageParams {
  readonly body: Body;
  /** A count parameter (`n`, `partial_images`), parsed from text when it came as multipart. */
  count(param: string): number | undefined;
  /** A boolean parameter, parsed from `true`/`false` when it came as multipart. */
  flag(param: string): boolean;
  /** A string parameter, or undefined when absent (or null). */
  text(param: string): string | undefined;
}

function paramsOf(body: Body, multipart: boolean): ImageParams {
  const isSet = (v: unknown) => v !== undefined && v !== null;
  return {
    body,
    count(param) {
      const v = body[param];
      if (!isSet(v)) return undefined;
      const n = multipart && typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
      if (typeof n !== 'number' || !Number.isInteger(n) || n < 0)
        throw invalidRequest(`'${param}' must be a non-negative integer.`, param);
      return n;
    },
    flag(param) {
      const v = body[param];
      if (!isSet(v)) return false;
      if (typeof v === 'boolean') return v;
      if (multipart && (v === 'true' || v === 'false')) return v === 'true';
      throw invalidRequest(`'${param}' must be a boolean.`, param);
    },
    text(param) {
      const v = body[param];
      if (!isSet(v)) return undefined;
      if (typeof v !== 'string') throw invalidRequest(`'${param}' must be a string.`, param);
      return v;
    },
  };
}

/** How many images, at most `limits.maxN` and OpenAI's 10. */
function imageCount(params: ImageParams, maxN: number): number {
  const n = params.count('n') ?? 1;
  const most = Math.min(maxN, MAX_IMAGES_PER_CALL);
  if (n < 1) throw invalidRequest("'n' must be a positive integer.", 'n');
  if (n > most) throw invalidRequest(`'n' is ${n}; this gateway allows at most ${most}.`, 'n');
  return n;
}

/**
 * The `quality:size` the call is priced at on a per-image model: the dearest listed variant the
 * asked quality and size allow (`auto` or absent allows any).
 * @throws GatewayError 400 naming `size` (or `quality`) when no priced variant matches
 */
export function pricedVariant(
  prices: Readonly<Record<string, number>>,
  quality: string | undefined,
  size: string | undefined,
): string {
  const any = (v: string | undefined) => v === undefined || v === 'auto';
  const matching = Object.keys(prices).filter((variant) => {
    const [q, s] = variant.split(':');
    return (any(quality) || q === quality) && (any(size) || s === size);
  });
  if (matching.length === 0) {
    const sizeKnown = Object.keys(prices).some((v) => any(size) || v.endsWith(`:${size}`));
    const param = sizeKnown ? 'quality' : 'size';
    throw invalidRequest(
      `'${param}' ${param === 'size' ? size : quality} is not available for this model.`,
      param,
    );
  }
  return matching.reduce((dearest, v) => (prices[v] > prices[dearest] ? v : dearest));
}

/** What a call reserves and how it is priced, from the model's price and the parameters. */
function worstCase(
  price: ModelPrice,
  params: ImageParams,
  input: { readonly n: number; readonly inputImages: number; readonly model: string },
): Pick<PreparedCall, 'promptTokens' | 'completionTokens' | 'images' | 'billedImages' | 'imageVariant'> {
  const prompt = params.text('prompt');
  if (prompt === undefined || prompt === '')
    throw invalidRequest("'prompt' must be a non-empty string.", 'prompt');
  const partials = params.count('partial_images') ?? 0;
  if (partials > MAX_PARTIAL_IMAGES) {
    throw invalidRequest(`'partial_images' must be from 0 to ${MAX_PARTIAL_IMAGES}.`, 'partial_images');
  }
  const promptTokens = textTokens(Buffer.byteLength(prompt));
  if (price.imageUsd !== undefined) {
    const variant = pricedVariant(price.imageUsd, params.text('quality'), params.text('size'));
    return { promptTokens, completionTokens: 0, billedImages: input.n, imageVariant: variant };
  }
  if (price.imageOutputTokens === undefined) {
    throw invalidRequest(`The model '${input.model}' does not generate images on this gateway.`, 'model');
  }
  const imageTokens = price.imageTokens ?? DEFAULT_IMAGE_TOKENS;
  return {
    promptTokens: promptTokens + input.inputImages * imageTokens,
    completionTokens: input.n * (price.imageOutputTokens + partials * PARTIAL_IMAGE_TOKENS),
    images: true,
  };
}

interface ImageCall {
  readonly spec: EndpointSpec;
  readonly body: Body;
  readonly multipart: boolean;
  readonly files?: readonly UploadedFile[];
  readonly inputImages: number;
}

function prepareImageCall({ policy, client }: PrepareInput, call: ImageCall): PreparedCall {
  const params = paramsOf(call.body, call.multipart);
  const { requestedModel, model } = policy.models.resolve(client, call.body.model);
  const n = imageCount(params, policy.config.limits.maxN);
  const stream = params.flag('stream');
  const reserved = worstCase(policy.config.models[model], params, {
    n,
    inputImages: call.inputImages,
    model,
  });
  const user = safetyIdentifier(client.id, call.body.user);
  return {
    spec: call.spec,
    requestedModel,
    model,
    body: { ...call.body, model, user },
    stream,
    callerWantsUsage: false,
    ...reserved,
    deterministic: false,
    ...(call.files ? { files: call.files } : {}),
  };
}

function prepareGeneration(input: PrepareInput): PreparedCall {
  const body = objectBody(input.body);
  checkKnownParameters(body, GENERATION_PARAMETERS, input.policy.config.limits);
  return prepareImageCall(input, { spec: imageGenerations, body, multipart: false, inputImages: 0 });
}

function prepareEdit(input: PrepareInput): PreparedCall {
  const form = input.body;
  if (!(form instanceof MultipartBody)) {
    throw invalidRequest("Send the body as 'multipart/form-data', with the image to edit as 'image'.");
  }
  const body = form.toRecord();
  const names = [...Object.keys(body), ...form.files.map((f) => f.field)].map((n) => n.replace(/\[\]$/, ''));
  checkKnownParameters(
    Object.fromEntries(names.map((n) => [n, true])),
    EDIT_PARAMETERS,
    input.policy.config.limits,
  );
  const images = form.filesOf('image');
  if (images.length === 0) throw invalidRequest("'image' must be one or more image files.", 'image');
  if (images.length > MAX_EDIT_IMAGES)
    throw invalidRequest(`'image' may hold at most ${MAX_EDIT_IMAGES} images.`, 'image');
  const masks = form.filesOf('mask');
  if (masks.length > 1) throw invalidRequest("'mask' must be one image file.", 'mask');
  return prepareImageCall(input, {
    spec: imageEdits,
    body,
    multipart: true,
    files: form.files,
    // The mask is an image upstream reads too: counted as one, on the safe side.
    inputImages: images.length + masks.length,
  });
}

/** Usage of a JSON answer: the tokens a token-billed model reports, or the images a per-image one returned. */
function imageUsageOfJson(text: string, prepared: PreparedCall): TokenUsage | undefined {
  const answer = parseJsonObject(text);
  if (answer === undefined) return undefined;
  if (prepared.billedImages === undefined) return readImageUsage(answer.usage);
  if (!Array.isArray(answer.data)) return undefined;
  return { prompt_tokens: 0, completion_tokens: 0, images: answer.data.length };
}

export const imageGenerations: EndpointSpec = {
  name: 'images.generations',
  family: 'images',
  route: '/v1/images/generations',
  upstreamPath: '/images/generations',
  knownParameters: GENERATION_PARAMETERS,
  prepare: prepareGeneration,
  usageOfJson: imageUsageOfJson,
  streamReader: (prepared) => new ImagesStreamReader(prepared),
  moderationInput: (body) => String(body.prompt),
};

export const imageEdits: EndpointSpec = {
  name: 'images.edits',
  family: 'images',
  route: '/v1/images/edits',
  upstreamPath: '/images/edits',
  multipart: true,
  knownParameters: EDIT_PARAMETERS,
  prepare: prepareEdit,
  usageOfJson: imageUsageOfJson,
  streamReader: (prepared) => new ImagesStreamReader(prepared),
  moderationInput: (body) => String(body.prompt),
};
