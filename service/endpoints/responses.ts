/**
 * `POST /v1/responses`: instructions and input items in, output items out, JSON or typed SSE events.
 * `max_output_tokens` is capped and defaulted like chat's `max_tokens` (it includes reasoning tokens);
 * the prompt estimate counts the instructions, every input item, tool definitions, the text format,
 * images and files, and the pipeline adds the context of a `previous_response_id` or `conversation`,
 * which upstream bills again. Hosted tools that bill per call and stored prompts (whose size the
 * gateway cannot see) are refused, and background mode unless the stage allows it
 * (`limits.backgroundResponses`; its reservation is then held until the final status, `background.ts`). A response is cacheable only where a replay is safe.
 */
import { invalidRequest } from '../errors';
import {
  checkKnownParameters,
  checkNumber,
  checkPromptCacheOptions,
  checkReasoningEffort,
  isObject,
  MESSAGE_OVERHEAD_TOKENS,
  REPLY_PRIMING_TOKENS,
  objectBody,
  outputTokenCap,
  promptCacheKey,
  safetyIdentifier,
  serviceTierFactor,
  streamFlag,
  type Body,
} from './fields';
import { idOfJson, responsesUsageOfJson } from './json-usage';
import { addContent, addJson, emptyPromptSize, promptTokensOf, type PromptSize } from './prompt-size';
import { ResponsesStreamReader } from './responses-stream';
import type { EndpointSpec, NamedObject, PrepareInput, PreparedCall } from './spec';

/** The parameters of OpenAI's `POST /v1/responses` (the SDK's `ResponseCreateParamsBase`, and `max_tool_calls`). */
const KNOWN_PARAMETERS: ReadonlySet<string> = new Set([
  'background',
  'context_management',
  'conversation',
  'include',
  'input',
  'instructions',
  'max_output_tokens',
  'max_tool_calls',
  'metadata',
  'model',
  'moderation',
  'parallel_tool_calls',
  'previous_response_id',
  'prompt',
  'prompt_cache_key',
  'prompt_cache_options',
  'prompt_cache_retention',
  'reasoning',
  'safety_identifier',
  'service_tier',
  'store',
  'stream',
  'stream_options',
  'temperature',
  'text',
  'tool_choice',
  'tools',
  'top_logprobs',
  'top_p',
  'truncation',
  'user',
]);

/**
 * Tool types the caller runs itself, or that bill only tokens: allowed. Hosted tools with a fee per
 * call or per container (web search, file search, code interpreter, image generation) and remote MCP
 * servers (whose tool listings bill as input the gateway cannot see) are refused.
 */
const ALLOWED_TOOL_TYPES: ReadonlySet<string> = new Set([
  'function',
  'custom',
  'computer_use_preview',
  'computer',
  'local_shell',
  'shell',
  'apply_patch',
]);

/** Body fields the model reads besides the input, billed as prompt tokens. */
const PROMPT_FIELDS = ['tools', 'tool_choice', 'text'] as const;

const isSet = (v: unknown): boolean => v !== undefined && v !== null;

/** `background`: refused unless the stage allows it, and only for a stored response, as upstream requires. */
function backgroundFlag(body: Body, allowed: boolean): boolean {
  if (!isSet(body.background) || body.background === false) return false;
  if (body.background !== true) throw invalidRequest("'background' must be a boolean.", 'background');
  if (!allowed) {
    throw invalidRequest(
      "'background' is not available on this stage: the gateway meters a response when it sees its final status.",
      'background',
      'unsupported_parameter',
    );
  }
  if (body.store === false) throw invalidRequest('Background mode requires store=true.', 'store');
  return true;
}

function refuseUnmetered(body: Body): void {
  if (isSet(body.prompt)) {
    throw invalidRequest(
      "'prompt' is not available through this gateway: a stored prompt's size is not known before upstream reads it.",
      'prompt',
      'unsupported_parameter',
    );
  }
  const tools = body.tools;
  if (!isSet(tools)) return;
  if (!Array.isArray(tools)) throw invalidRequest("'tools' must be an array.", 'tools');
  tools.forEach((tool, i) => {
    const type = isObject(tool) ? tool.type : undefined;
    if (typeof type !== 'string' || !ALLOWED_TOOL_TYPES.has(type)) {
      throw invalidRequest(
        `'tools[${i}].type' ${JSON.stringify(type)} is not available through this gateway: its per-call fee is not metered.`,
        `tools[${i}].type`,
        'unsupported_value',
      );
    }
  });
}

/** One input item: a message's content, a tool call's arguments or output, or any other item as JSON. */
function addItem(size: PromptSize, item: unknown, referenceTokens: number): void {
  size.textTokens += MESSAGE_OVERHEAD_TOKENS;
  if (!isObject(item)) return addJson(size, item);
  if (item.type === 'item_reference') {
    // An item of a stored response: at most one response's output, which the gateway caps.
    size.textTokens += referenceTokens;
    return;
  }
  const { content, output, ...rest } = item;
  if (content !== undefined) addContent(size, content);
  if (output !== undefined) addContent(size, output);
  addJson(size, rest);
}

/** The size of stored items (a conversation's), as billed to every response that reads them. */
export function itemsSize(items: readonly unknown[], referenceTokens: number): PromptSize {
  const size = emptyPromptSize();
  for (const item of items) addItem(size, item, referenceTokens);
  return size;
}

/** The prompt a Responses body gives the model: instructions, input items and the fields it reads. */
export function promptSize(body: Body, referenceTokens: number): PromptSize {
  const size = emptyPromptSize();
  if (body.instructions !== undefined && body.instructions !== null) {
    if (typeof body.instructions !== 'string')
      throw invalidRequest("'instructions' must be a string.", 'instructions');
    // Upstream puts the instructions in a message of their own, framing included.
    addItem(size, { content: body.instructions }, referenceTokens);
  }
  const input = body.input;
  if (typeof input === 'string') addItem(size, { content: input }, referenceTokens);
  else if (Array.isArray(input)) for (const item of input) addItem(size, item, referenceTokens);
  else if (isSet(input)) throw invalidRequest("'input' must be a string or an array of items.", 'input');
  for (const field of PROMPT_FIELDS) addJson(size, body[field]);
  return size;
}

/**
 * The stored objects a Responses body names: the previous response, and the conversation. They carry
 * their context into a model call (upstream bills it again), not into a token count.
 */
export function namedObjects(body: Body, carriesContext = true): NamedObject[] {
  const named: NamedObject[] = [];
  const previous = body.previous_response_id;
  if (isSet(previous)) {
    if (typeof previous !== 'string')
      throw invalidRequest("'previous_response_id' must be a string.", 'previous_response_id');
    named.push({ kind: 'response', id: previous, param: 'previous_response_id', carriesContext });
  }
  const conversation = body.conversation;
  if (isSet(conversation)) {
    const id = isObject(conversation) ? conversation.id : conversation;
    if (typeof id !== 'string')
      throw invalidRequest("'conversation' must be an id or an object with an 'id'.", 'conversation');
    named.push({ kind: 'conversation', id, param: 'conversation', carriesContext });
  }
  return named;
}

function streamOptions(body: Body, stream: boolean): void {
  if (!isSet(body.stream_options)) return;
  if (!stream)
    throw invalidRequest("'stream_options' is only allowed when 'stream' is true.", 'stream_options');
  if (!isObject(body.stream_options))
    throw invalidRequest("'stream_options' must be an object.", 'stream_options');
}

function prepare({ policy, client, body: raw }: PrepareInput): PreparedCall {
  const body = objectBody(raw);
  checkKnownParameters(body, KNOWN_PARAMETERS, policy.config.limits);
  refuseUnmetered(body);
  const background = backgroundFlag(body, policy.config.limits.backgroundResponses === true);
  const { requestedModel, model } = policy.models.resolve(client, body.model);
  const limits = policy.config.limits;
  const size = promptSize(body, limits.maxTokens);
  const prompt =
    promptTokensOf(size, { name: model, price: policy.config.models[model] }) + REPLY_PRIMING_TOKENS;
  const stream = streamFlag(body);
  streamOptions(body, stream);
  const cap = outputTokenCap(body, ['max_output_tokens'], limits);
  checkNumber(body, 'temperature');
  if (isSet(body.reasoning) && !isObject(body.reasoning))
    throw invalidRequest("'reasoning' must be an object.", 'reasoning');
  checkReasoningEffort(
    (body.reasoning as Body | undefined)?.effort,
    'reasoning.effort',
    client.reasoningEfforts,
  );
  checkPromptCacheOptions(body);
  const priceFactor = serviceTierFactor(body, client.serviceTiers, policy.config.models[model]);
  const names = namedObjects(body);
  const stored = body.store !== false;

  const out: Body = {
    ...body,
    model,
    safety_identifier: safetyIdentifier(client.id, body.safety_identifier ?? body.user),
    prompt_cache_key: promptCacheKey(body, client.id),
  };
  delete out.user;
  if (cap.defaulted) out.max_output_tokens = cap.tokens;
  return {
    spec: responses,
    requestedModel,
    model,
    body: out,
    stream,
    callerWantsUsage: true,
    promptTokens: prompt,
    completionTokens: cap.tokens,
    // A replay is safe only for an answer nobody can retrieve or continue by id.
    deterministic: body.temperature === 0 && !stored && names.length === 0,
    objects: { names, ...(stored ? { creates: 'response' as const } : {}) },
    ...(size.audio ? { audio: true } : {}),
    ...(priceFactor === 1 ? {} : { priceFactor }),
    ...(background ? { background } : {}),
  };
}

/** Everything the model reads, for the moderation pre-check: instructions, input text, tool definitions. */
export function moderationInput(body: Body): string {
  const parts: string[] = [];
  if (typeof body.instructions === 'string') parts.push(body.instructions);
  const items = typeof body.input === 'string' ? [{ content: body.input }] : (body.input as unknown[]);
  for (const item of items ?? []) {
    if (!isObject(item)) continue;
    for (const value of [item.content, item.output]) {
      if (typeof value === 'string') parts.push(value);
      else if (Array.isArray(value))
        for (const p of value) if (isObject(p) && typeof p.text === 'string') parts.push(p.text);
    }
    if (typeof item.arguments === 'string') parts.push(item.arguments);
  }
  for (const field of ['tools', 'tool_choice', 'text'] as const)
    if (isSet(body[field])) parts.push(JSON.stringify(body[field]));
  return parts.join('\n');
}

export const responses: EndpointSpec = {
  name: 'responses',
  family: 'responses',
  route: '/v1/responses',
  upstreamPath: '/responses',
  knownParameters: KNOWN_PARAMETERS,
  prepare,
  usageOfJson: responsesUsageOfJson,
  streamReader: () => new ResponsesStreamReader(),
  moderationInput,
  createdIdOfJson: idOfJson,
};
