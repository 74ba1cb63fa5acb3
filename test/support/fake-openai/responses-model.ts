/**
 * The fake model behind `POST /v1/responses`: what it answers (text, a JSON document for a
 * `json_schema` format, or a function call), how `max_output_tokens` truncates it, what it uses, and
 * the `Response` objects and typed stream events that carry it, in the wire shapes of the `openai`
 * SDK's `Response` and `ResponseStreamEvent` types.
 */
import { randomBytes } from 'node:crypto';
import { hasToolOutputSinceUser, itemId, type Item } from './items';
import { sampleOf } from './json-schema';
import type { FakeBehaviour, ScriptedResponse } from './types';
import {
  countTokens,
  isReasoningModel,
  responseUsageOf,
  responsesInputTokensOf,
  scriptedCounts,
  type TokenCounts,
} from './usage';
import { newId, nowSeconds, splitText } from './wire';

type Json = Record<string, unknown>;

export type TerminalStatus = 'completed' | 'incomplete' | 'failed';

/** What the model produced for one request. */
export interface Generation {
  readonly output: readonly Item[];
  readonly status: TerminalStatus;
  readonly incompleteDetails: { readonly reason: 'max_output_tokens' } | null;
  readonly error: { readonly code: string; readonly message: string } | null;
  readonly counts: TokenCounts;
}

/** OpenAI refuses a smaller `max_output_tokens`. */
export const MIN_OUTPUT_TOKENS = 16;

const functionTools = (body: Json): Json[] =>
  (Array.isArray(body.tools) ? (body.tools as Json[]) : []).filter((t) => t?.type === 'function');

/** The function call the model makes, if any. */
function chooseCall(
  body: Json,
  context: readonly Item[],
  scripted: ScriptedResponse,
): { name: string; arguments: string } | undefined {
  const forced = scripted.functionCall;
  if (forced === false) return undefined;
  if (typeof forced === 'object') return { name: forced.name, arguments: forced.arguments ?? '{}' };
  const tools = functionTools(body);
  const choice = body.tool_choice as string | Json | undefined;
  const named = typeof choice === 'object' && choice?.type === 'function' ? choice.name : undefined;
  const tool = tools.find((t) => t.name === named) ?? tools[0];
  if (!tool) return undefined;
  const call = { name: String(tool.name), arguments: JSON.stringify(sampleOf(tool.parameters ?? {})) };
  if (forced === true || choice === 'required' || named !== undefined) return call;
  if (choice === 'none' || hasToolOutputSinceUser(context)) return undefined;
  return call;
}

/** The answer's text: scripted, else a document matching the requested JSON schema, else the default. */
function answerText(body: Json, scripted: ScriptedResponse, behaviour: FakeBehaviour): string {
  if (scripted.text !== undefined) return scripted.text;
  const format = (body.text as Json | undefined)?.format as Json | undefined;
  if (format?.type === 'json_schema') return JSON.stringify(sampleOf(format.schema ?? {}));
  if (format?.type === 'json_object') return '{}';
  return behaviour.text;
}

/** Runs the fake model over `context` (the stored conversation, then this request's input). */
export function generate(
  body: Json,
  context: readonly Item[],
  scripted: ScriptedResponse,
  behaviour: FakeBehaviour,
): Generation {
  const model = String(body.model);
  const override = scriptedCounts(scripted.usage);
  const input = override.input ?? responsesInputTokensOf(body, context);
  const cached = override.cached ?? 0;
  const cacheWrite = override.cacheWrite ?? 0;
  if (scripted.failed) {
    const failed = typeof scripted.failed === 'object' ? scripted.failed : {};
    return {
      output: [],
      status: 'failed',
      incompleteDetails: null,
      error: {
        code: failed.code ?? 'server_error',
        message: failed.message ?? 'The model failed to generate a response.',
      },
      counts: { input, output: 0, reasoning: 0, cached, cacheWrite },
    };
  }
  const budget = typeof body.max_output_tokens === 'number' ? body.max_output_tokens : Infinity;
  const reasoning = isReasoningModel(model) ? Math.min(behaviour.reasoningTokens, budget) : 0;
  const visibleBudget = budget - reasoning;
  const call = chooseCall(body, context, scripted);
  let visible = call ? call.arguments : answerText(body, scripted, behaviour);
  const truncated = countTokens(visible) > visibleBudget;
  if (truncated) visible = visible.slice(0, Math.max(0, visibleBudget) * 4);
  const status = truncated ? 'incomplete' : 'completed';

  const output: Item[] = [];
  if (reasoning > 0) output.push({ id: itemId('reasoning'), type: 'reasoning', summary: [] });
  if (visible.length > 0 && call) {
    output.push({
      id: itemId('function_call'),
      type: 'function_call',
      status,
      arguments: visible,
      call_id: newId('call', '_'),
      name: call.name,
    });
  } else if (visible.length > 0 || !truncated) {
    output.push({
      id: itemId('message'),
      type: 'message',
      status,
      content: [{ type: 'output_text', annotations: [], logprobs: [], text: visible }],
      role: 'assistant',
    });
  }
  const visibleTokens = visible.length === 0 ? 0 : countTokens(visible);
  return {
    output,
    status,
    incompleteDetails: truncated ? { reason: 'max_output_tokens' } : null,
    error: null,
    counts: {
      input,
      output: override.output ?? visibleTokens + reasoning,
      reasoning: override.reasoning ?? reasoning,
      cached,
      cacheWrite,
    },
  };
}

/** How a function tool is echoed: `strict` defaults to true on the Responses API, no description is null. */
const echoTool = (tool: Json): Json =>
  tool?.type === 'function'
    ? {
        type: 'function',
        description: tool.description ?? null,
        name: tool.name,
        parameters: tool.parameters ?? null,
        strict: tool.strict ?? true,
      }
    : tool;

/** The `Response` object of a request, before any output (status `queued` or `in_progress`). */
export function responseObject(
  id: string,
  body: Json,
  opts: { readonly status: 'queued' | 'in_progress'; readonly conversationId?: string },
): Json {
  const model = String(body.model);
  const text = (body.text ?? {}) as Json;
  const reasoning = (body.reasoning ?? {}) as Json;
  return {
    id,
    object: 'response',
    created_at: nowSeconds(),
    status: opts.status,
    background: body.background === true,
    completed_at: null,
    ...(opts.conversationId === undefined ? {} : { conversation: { id: opts.conversationId } }),
    error: null,
    incomplete_details: null,
    instructions: body.instructions ?? null,
    max_output_tokens: body.max_output_tokens ?? null,
    max_tool_calls: body.max_tool_calls ?? null,
    model,
    output: [],
    parallel_tool_calls: body.parallel_tool_calls ?? true,
    previous_response_id: body.previous_response_id ?? null,
    prompt_cache_key: body.prompt_cache_key ?? null,
    prompt_cache_retention: body.prompt_cache_retention ?? null,
    reasoning: isReasoningModel(model)
      ? { effort: reasoning.effort ?? 'medium', summary: reasoning.summary ?? null }
      : { effort: null, summary: null },
    safety_identifier: body.safety_identifier ?? null,
    service_tier:
      body.service_tier === undefined || body.service_tier === 'auto' ? 'default' : body.service_tier,
    store: body.store ?? true,
    temperature: body.temperature ?? 1,
    text: { format: text.format ?? { type: 'text' }, verbosity: text.verbosity ?? 'medium' },
    tool_choice: body.tool_choice ?? 'auto',
    tools: (Array.isArray(body.tools) ? (body.tools as Json[]) : []).map(echoTool),
    top_logprobs: body.top_logprobs ?? 0,
    top_p: body.top_p ?? 1,
    truncation: body.truncation ?? 'disabled',
    usage: null,
    user: body.user ?? null,
    metadata: body.metadata ?? {},
  };
}

/** The `Response` once the model is done. */
export function finalObject(base: Json, generation: Generation): Json {
  return {
    ...base,
    status: generation.status,
    completed_at: generation.status === 'completed' ? nowSeconds() : null,
    error: generation.error,
    incomplete_details: generation.incompleteDetails,
    output: generation.output,
    usage: responseUsageOf(generation.counts),
  };
}

/** Stream event types that carry a piece of output (the ones `chunkDelayMs` paces and `cutAfterChunks` counts). */
export const DELTA_EVENTS = new Set(['response.output_text.delta', 'response.function_call_arguments.delta']);
export const TERMINAL_EVENTS = new Set(['response.completed', 'response.incomplete', 'response.failed']);

/**
 * The typed events of a response, in OpenAI's order, without sequence numbers (the stream numbers
 * them): created, [queued,] in_progress, each output item (added, its parts and deltas, done), then
 * the terminal event with the final response. Deltas carry an `obfuscation` padding unless the
 * request turned `stream_options.include_obfuscation` off.
 */
export function eventsOf(base: Json, generation: Generation, chunks: number, body: Json): Json[] {
  const obfuscate = (body.stream_options as Json | undefined)?.include_obfuscation !== false;
  const pad = (): Json =>
    obfuscate
      ? {
          obfuscation: randomBytes(6)
            .toString('base64url')
            .slice(0, 1 + (randomBytes(1)[0] % 8)),
        }
      : {};
  const pieces = (text: string) => splitText(text, chunks).filter((p) => p.length > 0);
  const events: Json[] = [{ type: 'response.created', response: base }];
  if (base.status === 'queued') events.push({ type: 'response.queued', response: base });
  events.push({ type: 'response.in_progress', response: { ...base, status: 'in_progress' } });
  generation.output.forEach((item, output_index) => {
    if (item.type === 'function_call') {
      events.push({
        type: 'response.output_item.added',
        output_index,
        item: { ...item, status: 'in_progress', arguments: '' },
      });
      for (const delta of pieces(String(item.arguments)))
        events.push({
          type: 'response.function_call_arguments.delta',
          item_id: item.id,
          output_index,
          delta,
          ...pad(),
        });
      events.push({
        type: 'response.function_call_arguments.done',
        item_id: item.id,
        output_index,
        arguments: item.arguments,
        name: item.name,
      });
    } else if (item.type === 'message') {
      const part = (item.content as Json[])[0];
      const text = String(part.text);
      const at = { item_id: item.id, output_index, content_index: 0 };
      events.push({
        type: 'response.output_item.added',
        output_index,
        item: { ...item, status: 'in_progress', content: [] },
      });
      events.push({ type: 'response.content_part.added', ...at, part: { ...part, text: '' } });
      for (const delta of pieces(text))
        events.push({ type: 'response.output_text.delta', ...at, delta, logprobs: [], ...pad() });
      events.push({ type: 'response.output_text.done', ...at, text, logprobs: [] });
      events.push({ type: 'response.content_part.done', ...at, part });
    } else {
      events.push({ type: 'response.output_item.added', output_index, item });
    }
    events.push({ type: 'response.output_item.done', output_index, item });
  });
  events.push({ type: `response.${generation.status}`, response: finalObject(base, generation) });
  return events;
}
