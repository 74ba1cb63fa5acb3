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

/** A moderation input's parts as OpenAI reads them: strings, or text and image_url objects. */
function moderationParts(
  input: unknown,
): Array<{ readonly text: string; readonly image: boolean }> | undefined {
  if (typeof input === 'string') return [{ text: input, image: false }];
  if (!Array.isArray(input) || input.length === 0) return undefined;
  const parts = input.map((item: unknown) => {
    if (typeof item === 'string') return { text: item, image: false };
    const part = item as { type?: unknown; text?: unknown; image_url?: { url?: unknown } } | null;
    if (part?.type === 'text' && typeof part.text === 'string') return { text: part.text, image: false };
    if (part?.type === 'image_url' && typeof part.image_url?.url === 'string')
      return { text: part.image_url.url, image: true };
    return undefined;
  });
  return parts.every((p) => p !== undefined) ? parts : undefined;
}

/**
 * `POST /v1/moderations`: one result per string, or a single result for a multi-modal array (OpenAI
 * classifies its text and images together). Free: nothing is billed.
 */
function moderations({ request, res, behaviour }: EndpointContext): void {
  const body = request.body as Record<string, unknown> | undefined;
  if (refuseUnknownParameter(res, body, 'moderations.create')) return;
  const parts = moderationParts(body?.input);
  if (!parts) return sendError(res, 400, "Invalid value for 'input'.", { param: 'input' });
  const flaggedBy = (text: string) => behaviour.moderationFlagWords.some((w) => text.includes(w));
  const multiModal = Array.isArray(body?.input) && body.input.some((x) => typeof x !== 'string');
  const results = multiModal
    ? [
        moderationResult(
          parts.some((p) => flaggedBy(p.text)),
          parts.some((p) => p.image),
        ),
      ]
    : parts.map((p) => moderationResult(flaggedBy(p.text)));
  sendJson(res, 200, { id: newId('modr'), model: body?.model ?? 'omni-moderation-latest', results });
}

export const embeddingEndpoints: readonly Endpoint[] = [
  { method: 'POST', path: '/v1/embeddings', handle: embeddings },
  { method: 'GET', path: '/v1/models', handle: models },
  { method: 'POST', path: '/v1/moderations', handle: moderations },
];
