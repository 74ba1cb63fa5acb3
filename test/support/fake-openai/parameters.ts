/**
 * The body parameters each endpoint accepts, taken from the `openai` SDK's request types, and the
 * refusal OpenAI answers to any other one:
 *
 *   400 {"error":{"message":"Unknown parameter: 'messages'.","type":"invalid_request_error","param":"messages","code":"unknown_parameter"}}
 *
 * (the current wording; "Unrecognized request argument supplied: x" was chat's old one). Each list is
 * checked by tsc against its SDK type in both directions: a name the type lacks does not compile, and
 * neither does a list missing one of the type's names, so an SDK upgrade that adds a parameter shows
 * up here.
 */
import type { BatchCreateParams } from 'openai/resources/batches';
import type { ChatCompletionCreateParamsBase } from 'openai/resources/chat/completions/completions';
import type { CompletionCreateParamsBase } from 'openai/resources/completions';
import type {
  ConversationCreateParams,
  ConversationUpdateParams,
} from 'openai/resources/conversations/conversations';
import type { ItemCreateParams } from 'openai/resources/conversations/items';
import type { EmbeddingCreateParams } from 'openai/resources/embeddings';
import type { ImageEditParamsBase, ImageGenerateParamsBase } from 'openai/resources/images';
import type { SpeechCreateParams } from 'openai/resources/audio/speech';
import type { TranscriptionCreateParamsBase } from 'openai/resources/audio/transcriptions';
import type { TranslationCreateParams } from 'openai/resources/audio/translations';
import type { ModerationCreateParams } from 'openai/resources/moderations';
import type { InputTokenCountParams } from 'openai/resources/responses/input-tokens';
import type { ResponseCompactParams, ResponseCreateParamsBase } from 'openai/resources/responses/responses';
import type { ServerResponse } from 'node:http';
import { sendError } from './http';

/** `keys` when it lists every key of T and nothing else; a compile error naming what is missing otherwise. */
const keysOf =
  <T>() =>
  <const K extends readonly (keyof T)[]>(
    ...keys: [Exclude<keyof T, K[number]>] extends [never] ? K : [{ missing: Exclude<keyof T, K[number]> }]
  ): ReadonlySet<string> =>
    new Set(keys as unknown as string[]);

const RESPONSES_CREATE = keysOf<ResponseCreateParamsBase>()(
  ...([
    'background',
    'context_management',
    'conversation',
    'include',
    'input',
    'instructions',
    'max_output_tokens',
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
  ] as const),
);

/**
 * `max_tool_calls` is in OpenAI's API reference for `POST /v1/responses` and in the SDK's WebSocket
 * `response.create` event (`ResponsesClientEvent`), but missing from the SDK's HTTP params type; the
 * AI SDK sends it.
 */
const RESPONSES_CREATE_EXTRA = ['max_tool_calls'];

const RESPONSES_COMPACT = keysOf<ResponseCompactParams>()(
  ...([
    'input',
    'instructions',
    'model',
    'previous_response_id',
    'prompt_cache_key',
    'prompt_cache_options',
    'prompt_cache_retention',
    'service_tier',
  ] as const),
);

const RESPONSES_INPUT_TOKENS = keysOf<InputTokenCountParams>()(
  ...([
    'conversation',
    'input',
    'instructions',
    'model',
    'parallel_tool_calls',
    'personality',
    'previous_response_id',
    'reasoning',
    'text',
    'tool_choice',
    'tools',
    'truncation',
  ] as const),
);

const CHAT_COMPLETIONS = keysOf<ChatCompletionCreateParamsBase>()(
  ...([
    'audio',
    'frequency_penalty',
    'function_call',
    'functions',
    'logit_bias',
    'logprobs',
    'max_completion_tokens',
    'max_tokens',
    'messages',
    'metadata',
    'modalities',
    'model',
    'moderation',
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
    'web_search_options',
  ] as const),
);

const COMPLETIONS = keysOf<CompletionCreateParamsBase>()(
  ...([
    'best_of',
    'echo',
    'frequency_penalty',
    'logit_bias',
    'logprobs',
    'max_tokens',
    'model',
    'n',
    'presence_penalty',
    'prompt',
    'seed',
    'stop',
    'stream',
    'stream_options',
    'suffix',
    'temperature',
    'top_p',
    'user',
  ] as const),
);

const EMBEDDINGS = keysOf<EmbeddingCreateParams>()(
  ...(['dimensions', 'encoding_format', 'input', 'model', 'user'] as const),
);

const IMAGES_GENERATE = keysOf<ImageGenerateParamsBase>()(
  ...([
    'background',
    'model',
    'moderation',
    'n',
    'output_compression',
    'output_format',
    'partial_images',
    'prompt',
    'quality',
    'response_format',
    'size',
    'stream',
    'style',
    'user',
  ] as const),
);

/** Form fields of an edit (an array such as `image[]` is named without its brackets here). */
const IMAGES_EDIT = keysOf<ImageEditParamsBase>()(
  ...([
    'background',
    'image',
    'input_fidelity',
    'mask',
    'model',
    'n',
    'output_compression',
    'output_format',
    'partial_images',
    'prompt',
    'quality',
    'response_format',
    'size',
    'stream',
    'user',
  ] as const),
);

const AUDIO_SPEECH = keysOf<SpeechCreateParams>()(
  ...(['input', 'instructions', 'model', 'response_format', 'speed', 'stream_format', 'voice'] as const),
);

/** Form fields of a transcription (`include[]`, `chunking_strategy[type]` named without their brackets). */
const AUDIO_TRANSCRIPTIONS = keysOf<TranscriptionCreateParamsBase>()(
  ...([
    'chunking_strategy',
    'file',
    'include',
    'known_speaker_names',
    'known_speaker_references',
    'language',
    'model',
    'prompt',
    'response_format',
    'stream',
    'temperature',
    'timestamp_granularities',
  ] as const),
);

const AUDIO_TRANSLATIONS = keysOf<TranslationCreateParams>()(
  ...(['file', 'model', 'prompt', 'response_format', 'temperature'] as const),
);

const MODERATIONS = keysOf<ModerationCreateParams>()(...(['input', 'model'] as const));

const CONVERSATIONS_CREATE = keysOf<ConversationCreateParams>()(...(['items', 'metadata'] as const));
const CONVERSATIONS_UPDATE = keysOf<ConversationUpdateParams>()(...(['metadata'] as const));
/** `include` of `ItemCreateParams` travels in the query string; the body holds `items` only. */
const CONVERSATION_ITEMS_CREATE = keysOf<Omit<ItemCreateParams, 'include'>>()(...(['items'] as const));

const BATCHES_CREATE = keysOf<BatchCreateParams>()(
  ...(['completion_window', 'endpoint', 'input_file_id', 'metadata', 'output_expires_after'] as const),
);

export const ACCEPTED_PARAMETERS = {
  'responses.create': new Set([...RESPONSES_CREATE, ...RESPONSES_CREATE_EXTRA]),
  'responses.compact': RESPONSES_COMPACT,
  'responses.input_tokens': RESPONSES_INPUT_TOKENS,
  'chat.completions.create': CHAT_COMPLETIONS,
  'completions.create': COMPLETIONS,
  'embeddings.create': EMBEDDINGS,
  'moderations.create': MODERATIONS,
  'images.generate': IMAGES_GENERATE,
  'images.edit': IMAGES_EDIT,
  'audio.speech': AUDIO_SPEECH,
  'audio.transcriptions': AUDIO_TRANSCRIPTIONS,
  'audio.translations': AUDIO_TRANSLATIONS,
  'conversations.create': CONVERSATIONS_CREATE,
  'conversations.update': CONVERSATIONS_UPDATE,
  'conversations.items.create': CONVERSATION_ITEMS_CREATE,
  'batches.create': BATCHES_CREATE,
} as const satisfies Record<string, ReadonlySet<string>>;

export type ParameterList = keyof typeof ACCEPTED_PARAMETERS;

/**
 * Answers OpenAI's 400 and returns true when the body has a parameter `list` does not accept (the
 * first one, in body order, as OpenAI names one at a time). A body that is not an object passes: the
 * endpoint's own validation answers it.
 */
export function refuseUnknownParameter(res: ServerResponse, body: unknown, list: ParameterList): boolean {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return false;
  const accepted: ReadonlySet<string> = ACCEPTED_PARAMETERS[list];
  const unknown = Object.keys(body).find((key) => !accepted.has(key));
  if (unknown === undefined) return false;
  sendError(res, 400, `Unknown parameter: '${unknown}'.`, { code: 'unknown_parameter', param: unknown });
  return true;
}

/**
 * Answers OpenAI's 400 and returns true when a multipart form has a field `list` does not accept
 * (an array's `name[]` and an object's `name[key]` are read as `name`).
 */
export function refuseUnknownFormField(
  res: ServerResponse,
  names: readonly string[],
  list: ParameterList,
): boolean {
  const accepted: ReadonlySet<string> = ACCEPTED_PARAMETERS[list];
  const unknown = names.map((n) => n.replace(/\[.*\]$/, '')).find((n) => !accepted.has(n));
  if (unknown === undefined) return false;
  sendError(res, 400, `Unknown parameter: '${unknown}'.`, { code: 'unknown_parameter', param: unknown });
  return true;
}
