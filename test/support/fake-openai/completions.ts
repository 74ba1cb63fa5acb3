/**
 * Legacy `POST /v1/completions`: `prompt` a string, strings, a token array or token arrays; one
 * choice per prompt x `n` (the index runs over all); `max_tokens` (16 by default, as OpenAI), `echo`,
 * `suffix`, `logprobs`; JSON `text_completion`, or SSE chunks, an optional usage chunk, `[DONE]`.
 * OpenAI bills the `best_of` candidates it generated per prompt, not the `n` it returned: so does the
 * fake, in `usage` and in `billed`.
 */
import { cutConnection, openSse, sendError, sendJson, sleep, writeSse } from './http';
import { refuseUnknownParameter } from './parameters';
import type { Endpoint, EndpointContext } from './types';
import { chatUsageOf, countTokens, scriptedCounts } from './usage';
import { newId, nowSeconds, splitText } from './wire';

const DEFAULT_MAX_TOKENS = 16;

/** The prompts of a request, each with its token count; undefined when `prompt` is not one of the four forms. */
function promptsOf(prompt: unknown): Array<{ text: string; tokens: number }> | undefined {
  const isTokens = (p: unknown): p is number[] => Array.isArray(p) && p.every((t) => typeof t === 'number');
  if (typeof prompt === 'string') return [{ text: prompt, tokens: countTokens(prompt) }];
  if (isTokens(prompt) && prompt.length > 0) return [{ text: prompt.join(' '), tokens: prompt.length }];
  if (!Array.isArray(prompt) || prompt.length === 0) return undefined;
  const prompts = prompt.map((p) =>
    typeof p === 'string'
      ? { text: p, tokens: countTokens(p) }
      : isTokens(p)
        ? { text: p.join(' '), tokens: p.length }
        : undefined,
  );
  return prompts.every((p) => p !== undefined) ? prompts : undefined;
}

/** `logprobs` of a choice: 4-character tokens, each with itself as the top alternative. */
function logprobsOf(text: string, offset: number) {
  const tokens = text.match(/[\s\S]{1,4}/g) ?? [];
  let at = offset;
  return {
    tokens,
    token_logprobs: tokens.map(() => -0.1),
    top_logprobs: tokens.map((t) => ({ [t]: -0.1 })),
    text_offset: tokens.map((t) => {
      const o = at;
      at += t.length;
      return o;
    }),
  };
}

async function completions(ctx: EndpointContext): Promise<void> {
  const { res, scripted, behaviour } = ctx;
  const body = ctx.request.body as Record<string, any> | undefined; // eslint-disable-line @typescript-eslint/no-explicit-any
  if (refuseUnknownParameter(res, body, 'completions.create')) return;
  if (!body || typeof body.model !== 'string')
    return sendError(res, 400, "Missing required parameter: 'model'.", { param: 'model' });
  const prompts = promptsOf(body.prompt);
  if (!prompts) return sendError(res, 400, "Missing required parameter: 'prompt'.", { param: 'prompt' });
  const n: number = typeof body.n === 'number' ? body.n : 1;
  const bestOf: number = typeof body.best_of === 'number' ? body.best_of : n;
  if (bestOf < n)
    return sendError(res, 400, 'best_of must be greater than or equal to n.', { param: 'best_of' });
  const stream = body.stream === true;
  if (stream && bestOf > 1)
    return sendError(res, 400, 'Cannot stream results with best_of > 1.', { param: 'best_of' });

  const maxTokens: number = typeof body.max_tokens === 'number' ? body.max_tokens : DEFAULT_MAX_TOKENS;
  let completion = scripted.text ?? behaviour.text;
  let finishReason: 'stop' | 'length' = 'stop';
  if (countTokens(completion) > maxTokens) {
    completion = completion.slice(0, maxTokens * 4);
    finishReason = 'length';
  }
  const suffixTokens = typeof body.suffix === 'string' && body.suffix ? countTokens(body.suffix) : 0;
  const override = scriptedCounts(scripted.usage);
  const input = override.input ?? prompts.reduce((sum, p) => sum + p.tokens + suffixTokens, 0);
  const output = override.output ?? (completion ? countTokens(completion) : 0) * bestOf * prompts.length;
  ctx.bill({
    model: body.model,
    usage: chatUsageOf({ input, output, reasoning: 0, cached: 0 }),
    endpoint: 'completions',
  });
  const usage = { prompt_tokens: input, completion_tokens: output, total_tokens: input + output };
  const id = newId('cmpl');
  const created = nowSeconds();
  const textOf = (p: number) => (body.echo === true ? prompts[p].text : '') + completion;
  const logprobs = (text: string) => (typeof body.logprobs === 'number' ? logprobsOf(text, 0) : null);
  const indexes = prompts.flatMap((_, p) => Array.from({ length: n }, (__, j) => ({ p, index: p * n + j })));
  const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) => ({
    id,
    object: 'text_completion',
    created,
    model: body.model,
    choices,
    ...extra,
  });

  if (!stream) {
    const choices = indexes.map(({ p, index }) => ({
      text: textOf(p),
      index,
      logprobs: logprobs(textOf(p)),
      finish_reason: finishReason,
    }));
    return sendJson(res, 200, chunk(choices, { usage }));
  }

  const includeUsage = body.stream_options?.include_usage === true;
  const withUsage = (u: unknown) => (includeUsage ? { usage: u } : {});
  const chunkDelayMs = scripted.chunkDelayMs ?? behaviour.chunkDelayMs;
  const pieces = splitText(completion, scripted.chunks ?? behaviour.chunks).filter((p) => p.length > 0);
  if (!openSse(res)) return;
  const send = (choices: unknown[], u: unknown = null) => writeSse(res, chunk(choices, withUsage(u)));
  if (body.echo === true)
    for (const { p, index } of indexes)
      send([{ text: prompts[p].text, index, logprobs: null, finish_reason: null }]);
  for (let c = 0; c < pieces.length; c++) {
    if (chunkDelayMs > 0) await sleep(chunkDelayMs);
    if (res.destroyed) return;
    if (scripted.cutAfterChunks !== undefined && c >= scripted.cutAfterChunks) {
      ctx.markCut();
      return cutConnection(res);
    }
    for (const { index } of indexes)
      send([{ text: pieces[c], index, logprobs: logprobs(pieces[c]), finish_reason: null }]);
  }
  if (chunkDelayMs > 0) await sleep(chunkDelayMs);
  if (res.destroyed) return;
  for (const { index } of indexes) send([{ text: '', index, logprobs: null, finish_reason: finishReason }]);
  if (includeUsage) send([], usage);
  writeSse(res, '[DONE]');
  res.end();
}

export const completionEndpoints: readonly Endpoint[] = [
  { method: 'POST', path: '/v1/completions', handle: completions, billsWhenAbandoned: true },
];
