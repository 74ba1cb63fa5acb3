/**
 * `POST /v1/chat/completions`: messages in, choices out, JSON or SSE. The output cap is the larger of
 * `max_completion_tokens` and `max_tokens` (the default is applied when the caller sends neither),
 * times `n`; the prompt estimate counts all the model reads (`promptSize`). A streamed call always
 * asks upstream for the usage chunk, and the caller sees it only if it asked for it.
 */
import { invalidRequest } from '../errors';
import {
  checkKnownParameters,
  checkNumber,
  checkPromptCacheOptions,
  checkReasoningEffort,
  checkStop,
  choiceCount,
  isObject,
  objectBody,
  outputTokenCap,
  promptCacheKey,
  safetyIdentifier,
  serviceTierFactor,
  streamFlag,
  usageStreamOptions,
  MESSAGE_OVERHEAD_TOKENS,
  REPLY_PRIMING_TOKENS,
  type Body,
} from './fields';
import { usageOfJson } from './json-usage';
import { addContent, addJson, emptyPromptSize, promptTokensOf, type PromptSize } from './prompt-size';
import { type EndpointSpec, type PrepareInput, type PreparedCall } from './spec';
import { ChatStreamReader } from './chat-stream';

/**
 * Body fields the model reads besides the messages, each billed as prompt tokens: tool and function
 * definitions, the tool choice, the response schema, and predicted output.
 */
const isSet = (v: unknown): boolean => v !== undefined && v !== null;

const PROMPT_FIELDS = ['tools', 'functions', 'tool_choice', 'response_format', 'prediction'] as const;

/** Every message (content, tool calls and their arguments, names) and every other field the model reads. */
function promptSize(body: Body): PromptSize {
  const messages = body.messages;
  if (!Array.isArray(messages) || messages.length === 0) {
    throw invalidRequest("'messages' must be a non-empty array of messages.", 'messages');
  }
  const size = emptyPromptSize();
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i];
    if (!isObject(m) || typeof m.role !== 'string') {
      throw invalidRequest(`'messages[${i}]' must be an object with a string 'role'.`, `messages[${i}]`);
    }
    const { role: _role, content, ...rest } = m;
    addContent(size, content);
    size.textTokens += MESSAGE_OVERHEAD_TOKENS;
    if (Object.keys(rest).length > 0) addJson(size, rest);
  }
  for (const field of PROMPT_FIELDS) addJson(size, body[field]);
  if (isSet(body.audio) || (Array.isArray(body.modalities) && body.modalities.includes('audio')))
    size.audio = true;
  return size;
}

/** The parameters of OpenAI's chat completions API the gateway accepts. */
const KNOWN_PARAMETERS: ReadonlySet<string> = new Set([
  'model',
  'messages',
  'audio',
  'frequency_penalty',
  'function_call',
  'functions',
  'logit_bias',
  'logprobs',
  'max_completion_tokens',
  'max_tokens',
  'metadata',
  'modalities',
  'n',
  'parallel_tool_calls',
  'prediction',
  'presence_penalty',
  'prompt_cache_key',
  'prompt_cache_options',
  'prompt_cache_retention',
  'reasoning_effort',
  'response_format',
  'safety_identifier',
  'seed',
  'service_tier',
  'stop',
  'store',
  'stream',
  'stream_options',
  'temperature',
  'tool_choice',
  'tools',
  'top_logprobs',
  'top_p',
  'user',
  'verbosity',
]);

/** Hosted tools billed per call that the budgets cannot see yet: refused, whatever the mode. */
function refuseUnmeteredTools(body: Body): void {
  if (body.web_search_options !== undefined && body.web_search_options !== null) {
    throw invalidRequest(
      "'web_search_options' is not available through this gateway: its per-search fee is not metered.",
      'web_search_options',
      'unsupported_parameter',
    );
  }
}

function prepare({ policy, client, body: raw }: PrepareInput): PreparedCall {
  const body = objectBody(raw);
  refuseUnmeteredTools(body);
  checkKnownParameters(body, KNOWN_PARAMETERS, policy.config.limits);
  const { requestedModel, model } = policy.models.resolve(client, body.model);
  const limits = policy.config.limits;
  const size = promptSize(body);
  const prompt =
    promptTokensOf(size, { name: model, price: policy.config.models[model] }) + REPLY_PRIMING_TOKENS;
  const stream = streamFlag(body);
  const options = usageStreamOptions(body, stream);
  const cap = outputTokenCap(body, ['max_completion_tokens', 'max_tokens'], limits);
  const n = choiceCount(body, limits);
  checkStop(body, limits);
  checkNumber(body, 'temperature');
  const priceFactor = serviceTierFactor(body, client.serviceTiers, policy.config.models[model]);
  checkReasoningEffort(body.reasoning_effort, 'reasoning_effort', client.reasoningEfforts);
  checkPromptCacheOptions(body);

  const out: Body = {
    ...body,
    model,
    safety_identifier: safetyIdentifier(client.id, body.safety_identifier ?? body.user),
    prompt_cache_key: promptCacheKey(body, client.id),
  };
  delete out.user;
  if (cap.defaulted) out.max_completion_tokens = cap.tokens;
  if (options.upstream) out.stream_options = options.upstream;
  return {
    spec: chatCompletions,
    requestedModel,
    model,
    body: out,
    stream,
    callerWantsUsage: options.callerWantsUsage,
    promptTokens: prompt,
    completionTokens: cap.tokens * n,
    deterministic: body.temperature === 0,
    ...(size.audio ? { audio: true } : {}),
    ...(priceFactor === 1 ? {} : { priceFactor }),
  };
}

/**
 * Everything the model reads, for the moderation pre-check: every message's text (string content
 * and text parts), the arguments of earlier tool calls, and the text of tool definitions, the tool
 * choice and the response schema (descriptions there are instructions too).
 */
function moderationInput(body: Body): string {
  const parts: string[] = [];
  for (const m of body.messages as Body[]) {
    if (typeof m.content === 'string') parts.push(m.content);
    else if (Array.isArray(m.content)) {
      for (const p of m.content) if (isObject(p) && typeof p.text === 'string') parts.push(p.text);
    }
    if (Array.isArray(m.tool_calls)) {
      for (const call of m.tool_calls) {
        const fn = isObject(call) && isObject(call.function) ? call.function : undefined;
        if (typeof fn?.arguments === 'string') parts.push(fn.arguments);
      }
    }
  }
  for (const field of PROMPT_FIELDS) {
    if (field !== 'prediction' && body[field] !== undefined && body[field] !== null)
      parts.push(JSON.stringify(body[field]));
  }
  return parts.join('\n');
}

export const chatCompletions: EndpointSpec = {
  name: 'chat',
  family: 'chat',
  route: '/v1/chat/completions',
  upstreamPath: '/chat/completions',
  knownParameters: KNOWN_PARAMETERS,
  prepare,
  usageOfJson,
  streamReader: (prepared) => new ChatStreamReader(prepared.callerWantsUsage),
  moderationInput,
};
