/**
 * `POST /v1/moderations`: text and image inputs classified, JSON only. OpenAI does not bill it, but it
 * counts toward the client's RPM and, by its input estimate, TPM: a flood of moderations still spends
 * the project's upstream rate limits. The model is allowed per client like any other; a stage lists its
 * moderation models in `models` at price 0 (the answer reports no usage, so the call settles at its
 * estimate, which costs nothing at that price). `model` may be left out: the stage's
 * `moderation.model` is sent, as OpenAI would default it.
 */
import { invalidRequest } from '../errors';
import { checkKnownParameters, isObject, objectBody, textTokens } from './fields';
import { type EndpointSpec, type PrepareInput, type PreparedCall } from './spec';

/** The parameters of OpenAI's moderations API. */
const KNOWN_PARAMETERS: ReadonlySet<string> = new Set(['model', 'input']);

const INPUT_SHAPE =
  "'input' must be a non-empty string, an array of strings, or an array of text and image_url inputs.";

/** Bytes one multi-modal input weighs in the estimate: its text, or its image URL (data URLs are large). */
function multiModalBytes(item: unknown, index: number): number {
  if (!isObject(item)) throw invalidRequest(INPUT_SHAPE, `input[${index}]`);
  if (item.type === 'text' && typeof item.text === 'string') return Buffer.byteLength(item.text);
  const image = item.image_url;
  if (item.type === 'image_url' && isObject(image) && typeof image.url === 'string' && image.url !== '') {
    return Buffer.byteLength(image.url);
  }
  throw invalidRequest(INPUT_SHAPE, `input[${index}]`);
}

/** The input's token estimate (text at 3 bytes a token). @throws GatewayError 400 naming `input` */
export function moderationInputTokens(input: unknown): number {
  if (typeof input === 'string' && input !== '') return textTokens(Buffer.byteLength(input));
  if (!Array.isArray(input) || input.length === 0) throw invalidRequest(INPUT_SHAPE, 'input');
  if (input.every((x) => typeof x === 'string')) {
    return (input as string[]).reduce((sum, text) => sum + textTokens(Buffer.byteLength(text)), 0);
  }
  return input.reduce((sum: number, item, i) => sum + textTokens(multiModalBytes(item, i)), 0);
}

function prepare({ policy, client, body: raw }: PrepareInput): PreparedCall {
  const body = objectBody(raw);
  checkKnownParameters(body, KNOWN_PARAMETERS, policy.config.limits);
  const named = body.model ?? policy.config.moderation.model;
  const { requestedModel, model } = policy.models.resolve(client, named);
  const promptTokens = moderationInputTokens(body.input);
  return {
    spec: moderations,
    requestedModel,
    model,
    body: { ...body, model },
    stream: false,
    callerWantsUsage: false,
    promptTokens,
    completionTokens: 0,
    // Results follow the model behind `-latest`, which OpenAI updates: not cached.
    deterministic: false,
  };
}

export const moderations: EndpointSpec = {
  name: 'moderations',
  family: 'moderations',
  route: '/v1/moderations',
  upstreamPath: '/moderations',
  knownParameters: KNOWN_PARAMETERS,
  prepare,
  // No usage in the answer: the call settles at its estimate (tokens), at the model's price (0).
  usageOfJson: () => undefined,
};
