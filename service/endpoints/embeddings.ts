/**
 * `POST /v1/embeddings`: input in, vectors out, JSON only. No output tokens; the estimate counts the
 * input's text (3 bytes a token) or its token ids. Deterministic, so cacheable by default. The end-user
 * id (`user`) is replaced by the per-client safety identifier, as on every endpoint.
 */
import { invalidRequest } from '../errors';
import { checkKnownParameters, objectBody, safetyIdentifier, textTokens, type Body } from './fields';
import { usageOfJson } from './json-usage';
import { type EndpointSpec, type PrepareInput, type PreparedCall } from './spec';

function inputTokens(input: unknown): number {
  const valid =
    typeof input === 'string' ||
    (Array.isArray(input) &&
      input.length > 0 &&
      input.every((x) => typeof x === 'string' || typeof x === 'number' || Array.isArray(x)));
  if (!valid || input === '') throw invalidRequest("'input' must be a non-empty string or array.", 'input');
  if (typeof input === 'string') return textTokens(Buffer.byteLength(input));
  let tokens = 0;
  for (const item of input as unknown[]) {
    if (typeof item === 'string') tokens += textTokens(Buffer.byteLength(item));
    else if (typeof item === 'number') tokens += 1;
    else tokens += (item as unknown[]).length;
  }
  return tokens;
}

/** The parameters of OpenAI's embeddings API the gateway accepts (`safety_identifier` becomes `user`). */
const KNOWN_PARAMETERS: ReadonlySet<string> = new Set([
  'model',
  'input',
  'dimensions',
  'encoding_format',
  'user',
  'safety_identifier',
]);

function prepare({ policy, client, body: raw }: PrepareInput): PreparedCall {
  const body = objectBody(raw);
  checkKnownParameters(body, KNOWN_PARAMETERS, policy.config.limits);
  const { requestedModel, model } = policy.models.resolve(client, body.model);
  const promptTokens = inputTokens(body.input);
  // Embeddings take the identifier as `user`; a raw `safety_identifier` never reaches upstream.
  const out: Body = {
    ...body,
    model,
    user: safetyIdentifier(client.id, body.safety_identifier ?? body.user),
  };
  delete out.safety_identifier;
  return {
    spec: embeddings,
    requestedModel,
    model,
    body: out,
    stream: false,
    callerWantsUsage: false,
    promptTokens,
    completionTokens: 0,
    deterministic: true,
  };
}

export const embeddings: EndpointSpec = {
  name: 'embeddings',
  family: 'embeddings',
  route: '/v1/embeddings',
  upstreamPath: '/embeddings',
  knownParameters: KNOWN_PARAMETERS,
  prepare,
  usageOfJson,
};
