/** `POST /v1/chat/completions`: JSON, or SSE chunks with the usage chunk and `[DONE]`. */
import { cutConnection, openSse, sendError, sendJson, sleep, writeSse } from './http';
import { refuseUnknownParameter } from './parameters';
import type { Endpoint, EndpointContext } from './types';
import { chatUsageOf, countTokens, promptTokensOf, scriptedCounts, type Usage } from './usage';
import { chatChunk, chatCompletion, deltaChoice, newId, nowSeconds, splitText } from './wire';

/** The usage of a chat completion as the model would produce it, recorded in `billed`. */
function billChat(ctx: EndpointContext): { usage: Usage; finishReason: 'stop' | 'length' } {
  const body = ctx.request.body as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  const n: number = typeof body.n === 'number' ? body.n : 1;
  const maxTokens: number | undefined = body.max_completion_tokens ?? body.max_tokens;
  let completionTokens = countTokens(ctx.scripted.text ?? ctx.behaviour.text);
  let finishReason: 'stop' | 'length' = 'stop';
  if (maxTokens !== undefined && completionTokens > maxTokens) {
    completionTokens = maxTokens;
    finishReason = 'length';
  }
  const override = scriptedCounts(ctx.scripted.usage);
  const usage = chatUsageOf({
    input: override.input ?? promptTokensOf(body),
    output: override.output ?? completionTokens * n,
    reasoning: override.reasoning ?? 0,
    cached: override.cached ?? 0,
    cacheWrite: override.cacheWrite ?? 0,
  });
  ctx.bill({ model: String(body.model), usage, endpoint: 'chat' });
  return { usage, finishReason };
}

async function chat(ctx: EndpointContext): Promise<void> {
  const { res, scripted, behaviour } = ctx;
  const body = ctx.request.body as Record<string, any> | undefined; // eslint-disable-line @typescript-eslint/no-explicit-any
  if (refuseUnknownParameter(res, body, 'chat.completions.create')) return;
  if (!body || typeof body !== 'object' || typeof body.model !== 'string' || !Array.isArray(body.messages)) {
    return sendError(res, 400, "Missing required parameter: 'messages'.");
  }
  const model: string = body.model;
  const n: number = typeof body.n === 'number' ? body.n : 1;
  const text = scripted.text ?? behaviour.text;
  const { usage, finishReason } = billChat(ctx);
  const id = newId('chatcmpl');

  if (body.stream !== true) {
    return sendJson(res, 200, chatCompletion({ id, model, text, n, usage, finishReason }));
  }

  const includeUsage = body.stream_options?.include_usage === true;
  const created = nowSeconds();
  const chunkDelayMs = scripted.chunkDelayMs ?? behaviour.chunkDelayMs;
  const pieces = splitText(text, scripted.chunks ?? behaviour.chunks);
  if (!openSse(res)) return;
  const send = (choices: unknown[], withUsage?: Usage) =>
    writeSse(res, chatChunk({ id, created, model, choices, includeUsage, usage: withUsage }));

  for (let i = 0; i < n; i++) send([deltaChoice(i, { role: 'assistant', content: '', refusal: null })]);
  for (let c = 0; c < pieces.length; c++) {
    if (chunkDelayMs > 0) await sleep(chunkDelayMs);
    if (res.destroyed) return;
    if (scripted.cutAfterChunks !== undefined && c >= scripted.cutAfterChunks) {
      // Let what was written reach the client first, then drop the connection without [DONE].
      ctx.markCut();
      return cutConnection(res);
    }
    for (let i = 0; i < n; i++) send([deltaChoice(i, { content: pieces[c] })]);
    if (c === 0 && scripted.holdAfterFirstChunk !== undefined) await scripted.holdAfterFirstChunk;
  }
  if (chunkDelayMs > 0) await sleep(chunkDelayMs);
  if (res.destroyed) return;
  for (let i = 0; i < n; i++) send([deltaChoice(i, {}, finishReason)]);
  if (includeUsage) send([], usage);
  writeSse(res, '[DONE]');
  res.end();
}

export const chatEndpoints: readonly Endpoint[] = [
  { method: 'POST', path: '/v1/chat/completions', handle: chat, billsWhenAbandoned: true },
];
