/**
 * Legacy `POST /v1/completions`, the guide's "batch the prompts": `prompt` as a string, a token
 * array, or up to `MAX_PROMPTS` of either. `n` and `best_of` are capped by `limits.maxN`; upstream
 * generates `max(n, best_of)` candidates a prompt, so the worst case is `max_tokens x max(n, best_of) x
 * prompts`. `best_of` does not stream, as OpenAI answers. The stream grammar is chat's (`data:` chunks,
 * the usage chunk, `[DONE]`); `user` becomes the per-client hashed identifier (this API has no
 * `safety_identifier`).
 */
import { invalidRequest } from '../errors';
import { ChatStreamReader } from './chat-stream';
import {
  checkKnownParameters,
  checkNumber,
  checkStop,
  choiceCount,
  objectBody,
  outputTokenCap,
  safetyIdentifier,
  streamFlag,
  textTokens,
  usageStreamOptions,
  type Body,
} from './fields';
import { usageOfJson } from './json-usage';
import type { EndpointSpec, PrepareInput, PreparedCall } from './spec';

/** Most prompts in one call: a batch is one request against RPM, but not an unbounded one. */
export const MAX_PROMPTS = 20;

/** The parameters of OpenAI's legacy completions API (the SDK's `CompletionCreateParamsBase`). */
const KNOWN_PARAMETERS: ReadonlySet<string> = new Set([
  'model',
  'prompt',
  'best_of',
  'echo',
  'frequency_penalty',
  'logit_bias',
  'logprobs',
  'max_tokens',
  'n',
  'presence_penalty',
  'seed',
  'stop',
  'stream',
  'stream_options',
  'suffix',
  'temperature',
  'top_p',
  'user',
]);

const isTokenArray = (v: unknown): v is number[] =>
  Array.isArray(v) && v.length > 0 && v.every((t) => typeof t === 'number' && Number.isInteger(t));

/** The prompts of the call, as a list: a string, a token array, or a list of either. */
function promptsOf(prompt: unknown): Array<string | number[]> {
  if (typeof prompt === 'string' || isTokenArray(prompt)) return [prompt];
  if (!Array.isArray(prompt) || prompt.length === 0)
    throw invalidRequest("'prompt' must be a string, a token array, or a non-empty array of them.", 'prompt');
  if (prompt.length > MAX_PROMPTS) {
    throw invalidRequest(
      `'prompt' has ${prompt.length} prompts; this gateway allows at most ${MAX_PROMPTS} in one call.`,
      'prompt',
    );
  }
  return prompt.map((p, i) => {
    if (typeof p === 'string' || isTokenArray(p)) return p;
    throw invalidRequest(`'prompt[${i}]' must be a string or a token array.`, `prompt[${i}]`);
  });
}

/** Prompt tokens of every prompt (token arrays exactly, text at 3 bytes a token) and of the suffix. */
function promptTokens(prompts: Array<string | number[]>, suffix: unknown): number {
  if (suffix !== undefined && suffix !== null && typeof suffix !== 'string')
    throw invalidRequest("'suffix' must be a string.", 'suffix');
  const suffixTokens = typeof suffix === 'string' ? textTokens(Buffer.byteLength(suffix)) : 0;
  let tokens = 0;
  for (const p of prompts)
    tokens += (typeof p === 'string' ? textTokens(Buffer.byteLength(p)) : p.length) + suffixTokens;
  return tokens;
}

/** Candidates generated a prompt: `max(n, best_of)`, `best_of` at least `n` and never streamed. */
function candidates(body: Body, limits: PrepareInput['policy']['config']['limits'], stream: boolean): number {
  const n = choiceCount(body, limits);
  const bestOf = body.best_of;
  if (bestOf === undefined || bestOf === null) return n;
  const best = choiceCount({ n: bestOf }, limits);
  if (best < n) throw invalidRequest("'best_of' must be greater than or equal to 'n'.", 'best_of');
  if (stream && best > 1) throw invalidRequest("'best_of' cannot be used with 'stream'.", 'best_of');
  return best;
}

function prepare({ policy, client, body: raw }: PrepareInput): PreparedCall {
  const body = objectBody(raw);
  checkKnownParameters(body, KNOWN_PARAMETERS, policy.config.limits);
  const { requestedModel, model } = policy.models.resolve(client, body.model);
  const limits = policy.config.limits;
  const prompts = promptsOf(body.prompt);
  const stream = streamFlag(body);
  const options = usageStreamOptions(body, stream);
  const cap = outputTokenCap(body, ['max_tokens'], limits);
  const perPrompt = candidates(body, limits, stream);
  checkStop(body, limits);
  checkNumber(body, 'temperature');

  const out: Body = { ...body, model, user: safetyIdentifier(client.id, body.user) };
  if (cap.defaulted) out.max_tokens = cap.tokens;
  if (options.upstream) out.stream_options = options.upstream;
  return {
    spec: completions,
    requestedModel,
    model,
    body: out,
    stream,
    callerWantsUsage: options.callerWantsUsage,
    promptTokens: promptTokens(prompts, body.suffix),
    completionTokens: cap.tokens * perPrompt * prompts.length,
    deterministic: body.temperature === 0,
  };
}

/** The text the model reads: every text prompt and the suffix (token arrays are not text). */
function moderationInput(body: Body): string {
  const prompts =
    typeof body.prompt === 'string' ? [body.prompt] : Array.isArray(body.prompt) ? body.prompt : [];
  const parts = prompts.filter((p): p is string => typeof p === 'string');
  if (typeof body.suffix === 'string') parts.push(body.suffix);
  return parts.join('\n');
}

export const completions: EndpointSpec = {
  name: 'completions',
  family: 'completions',
  route: '/v1/completions',
  upstreamPath: '/completions',
  knownParameters: KNOWN_PARAMETERS,
  prepare,
  usageOfJson,
  streamReader: (prepared) => new ChatStreamReader(prepared.callerWantsUsage),
  moderationInput,
};
