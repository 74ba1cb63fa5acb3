/** The fake's public types, and the context its endpoints get. `index.ts` re-exports the public ones. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FormBody } from './http';
import type { ScriptedUsage, Usage } from './usage';

/** How the fake answers when no scripted response applies. */
export interface FakeBehaviour {
  /** Completion text of every chat, completions and Responses answer. @default 'Hello from the fake OpenAI upstream.' */
  readonly text: string;
  /** Content chunks in a streamed answer. @default 4 */
  readonly chunks: number;
  /** Pause between stream chunks, ms. @default 0 */
  readonly chunkDelayMs: number;
  /** Pause before response headers, ms. @default 0 */
  readonly delayMs: number;
  /** Embedding dimensions. @default 8 */
  readonly embeddingDimensions: number;
  /** Models `GET /v1/models` lists. */
  readonly models: readonly string[];
  /** Moderation flags any input containing one of these strings. @default ['FLAG_ME'] */
  readonly moderationFlagWords: readonly string[];
  /** Keep every request in `requests` (turn off for benchmarks). @default true */
  readonly record: boolean;
  /** How long a batch stays validating, then in progress, before it completes, ms (each). @default 50 */
  readonly batchMs: number;
  /** How long a `background: true` response stays queued / in progress before it completes, ms. @default 50 */
  readonly backgroundMs: number;
  /**
   * Reasoning tokens a reasoning model (`o1`, `o3`, `o4-mini`, `gpt-5`...) spends per Responses answer,
   * counted in its output tokens and capped by `max_output_tokens`. @default 64
   */
  readonly reasoningTokens: number;
  /** Bytes of every generated image (before base64). @default 68 (a 1x1 PNG) */
  readonly imageBytes: number;
}

/** A function call a scripted Responses answer makes. */
export interface ScriptedFunctionCall {
  readonly name: string;
  /** JSON arguments. @default built from the tool's JSON schema (its required properties) */
  readonly arguments?: string;
}

/** One scripted answer, used by the next matching request instead of the default behaviour. */
export interface ScriptedResponse {
  /** Only a request to this path (e.g. `/v1/embeddings`) takes this answer. @default any path */
  readonly path?: string;
  /** HTTP status. A non-2xx status sends an OpenAI error body unless `body` is given. @default 200 */
  readonly status?: number;
  /** `Retry-After` header value (seconds). */
  readonly retryAfter?: string;
  /** Extra response headers. */
  readonly headers?: Readonly<Record<string, string>>;
  /** JSON body to send as is, instead of the generated one. */
  readonly body?: unknown;
  /** Raw body text to send as is (e.g. invalid JSON). */
  readonly rawBody?: string;
  /** Pause before response headers, ms. */
  readonly delayMs?: number;
  /** Never answer (until the client goes away or the fake stops). */
  readonly hang?: boolean;
  /** Completion text for this answer (on Responses, the text even when a JSON schema was asked for). */
  readonly text?: string;
  /** Content chunks of a streamed answer. */
  readonly chunks?: number;
  /** Pause between stream chunks, ms. */
  readonly chunkDelayMs?: number;
  /**
   * Chat streams only: after the first content chunk, send nothing more until this settles (a stream
   * a test holds in flight for as long as it needs, with no timing to guess).
   */
  readonly holdAfterFirstChunk?: Promise<void>;
  /**
   * Destroy the socket after this many content chunks of a stream (a cut stream: no `[DONE]`, and on
   * Responses no terminal event).
   */
  readonly cutAfterChunks?: number;
  /** Overrides the reported (and billed) usage, in chat names or in Responses names. */
  readonly usage?: ScriptedUsage;
  /**
   * Responses only: `true` answers with a call of the request's function tool (the one `tool_choice`
   * names, else the first), an object with this call, `false` with text.
   * @default a call while the request has function tools and no tool output since the last user message
   */
  readonly functionCall?: boolean | ScriptedFunctionCall;
  /**
   * Responses only: the model fails (`status: 'failed'`, `error`, terminal `response.failed`); it bills
   * the input tokens only. `true` is a `server_error`.
   */
  readonly failed?: boolean | { readonly code?: string; readonly message?: string };
}

/** A request as the fake received it. */
export interface RecordedRequest {
  readonly method: string;
  /** Path without query, e.g. `/v1/chat/completions`. */
  readonly path: string;
  readonly query: URLSearchParams;
  /** Lower-cased header names. */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** Parsed JSON body, or the raw text when it is not JSON, or undefined when empty. */
  readonly body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  /** The bearer token sent, if any. */
  readonly apiKey?: string;
  /** The body's bytes as received. */
  readonly raw: Buffer;
  /** A `multipart/form-data` body, parsed: its text fields and files. @default none (not multipart) */
  readonly form?: FormBody;
}

/** Which API billed a call. */
export type BilledEndpoint =
  | 'chat'
  | 'completions'
  | 'responses'
  | 'responses.compact'
  | 'images.generations'
  | 'images.edits'
  | 'audio.speech'
  | 'audio.transcriptions'
  | 'audio.translations'
  | 'batch';

/** One call OpenAI bills, in chat usage names whatever the API (so one cost function sums them all). */
export interface BilledCall {
  readonly model: string;
  readonly usage: Usage;
  readonly endpoint: BilledEndpoint;
  /** Images billed by the image (dall-e-2, dall-e-3), and their `quality:size`. @default none */
  readonly images?: { readonly count: number; readonly variant: string };
  /** Input characters billed by the character (tts-1). @default none */
  readonly characters?: number;
  /** Seconds of audio billed by the minute (whisper-1). @default none */
  readonly seconds?: number;
}

/** What a custom route handler gets. */
export interface RouteContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly request: RecordedRequest;
  /** Sends a JSON response. */
  json(status: number, body: unknown, headers?: Readonly<Record<string, string>>): void;
  /** Sends an OpenAI-shaped error. */
  error(status: number, message: string, type?: string, code?: string | null): void;
}

export type RouteHandler = (ctx: RouteContext) => void | Promise<void>;

/** What a built-in endpoint gets. */
export interface EndpointContext {
  /** The raw request: its body is still unread when the endpoint `streamsBody`. */
  readonly req: IncomingMessage;
  readonly request: RecordedRequest;
  readonly res: ServerResponse;
  /** The scripted answer this request took, `{}` when none. */
  readonly scripted: ScriptedResponse;
  readonly behaviour: FakeBehaviour;
  /** The path's capture groups (e.g. a response id). */
  readonly params: readonly string[];
  /** Records a call in the billing ledger. */
  bill(call: BilledCall): void;
  /** Marks the coming socket destruction as the fake's own (a scripted cut), not a client abort. */
  markCut(): void;
}

/** A built-in endpoint in the dispatch table. */
export interface Endpoint {
  readonly method: 'GET' | 'POST' | 'DELETE';
  /** The full path, or a pattern whose groups become `params`. */
  readonly path: string | RegExp;
  handle(ctx: EndpointContext): void | Promise<void>;
  /**
   * The model starts as soon as the request arrives: when the client leaves during the delay the
   * handler still runs (its writes are no-ops) so the call is billed, as OpenAI bills it.
   */
  readonly billsWhenAbandoned?: boolean;
  /**
   * A multipart body is left unread for the handler to read as it arrives (`ctx.req`); its recorded
   * `body` is undefined. @default false
   */
  readonly streamsBody?: boolean;
}
