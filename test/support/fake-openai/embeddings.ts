/** `POST /v1/embeddings` (float and base64), `GET /v1/models`, `POST /v1/moderations`. */
import { sendError, sendJson } from './http';
import { refuseUnknownParameter } from './parameters';
import type { Endpoint, EndpointContext } from './types';
import { countTokens } from './usage';
import { embeddingBase64, embeddingVector, moderationResult, newId } from './wire';

function embeddings({ request, res, behaviour }: EndpointContext): void {
  const body = request.body as Record<string, unknown> | undefined;
  if (refuseUnknownParameter(res, body, 'embeddings.create')) return;
  if (!body || typeof body.model !== 'string' || body.input === undefined) {
    return sendError(res, 400, "Missing required parameter: 'input'.");
  }
  const inputs = Array.isArray(body.input) ? body.input : [body.input];
  const dims = typeof body.dimensions === 'number' ? body.dimensions : behaviour.embeddingDimensions;
  let tokens = 0;
  const data = inputs.map((input, index) => {
    const text = typeof input === 'string' ? input : JSON.stringify(input);
    tokens += countTokens(text);
    const vector = embeddingVector(text, dims);
    return {
      object: 'embedding',
      index,
      embedding: body.encoding_format === 'base64' ? embeddingBase64(vector) : vector,
    };
  });
  sendJson(res, 200, {
    object: 'list',
    data,
    model: body.model,
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  });
}

function models({ res, behaviour }: EndpointContext): void {
  sendJson(res, 200, {
    object: 'list',
    data: behaviour.models.map((id) => ({ id, object: 'model', created: 1_700_000_000, owned_by: 'system' })),
  });
}

function moderations({ request, res, behaviour }: EndpointContext): void {
  const body = request.body as Record<string, unknown> | undefined;
  const inputs = Array.isArray(body?.input) ? body.input : [body?.input ?? ''];
  const results = inputs.map((input) => {
    const text = typeof input === 'string' ? input : JSON.stringify(input);
    return moderationResult(behaviour.moderationFlagWords.some((w) => text.includes(w)));
  });
  sendJson(res, 200, { id: newId('modr'), model: body?.model ?? 'omni-moderation-latest', results });
}

export const embeddingEndpoints: readonly Endpoint[] = [
  { method: 'POST', path: '/v1/embeddings', handle: embeddings },
  { method: 'GET', path: '/v1/models', handle: models },
  { method: 'POST', path: '/v1/moderations', handle: moderations },
];
