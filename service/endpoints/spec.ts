/**
 * An endpoint spec declares everything that differs from one OpenAI endpoint family to another: its
 * route, how a body is validated, capped and defaulted for a client, the real model and the tokens to
 * reserve, how usage is read from a JSON answer and from a stream, whether the answer may be cached,
 * what moderation reads, and which stored objects it creates or names. The pipeline runs every spec
 * with the same steps and never branches on an endpoint's name; the route table is built from the list
 * in `index.ts`. Specs are pure (no Fastify, no store), so the batch handler validates its lines with
 * the very same code.
 */
import type { ApiFamily, ClientConfig, GatewayConfig } from '../../runtime/gateway-config';
import type { TokenUsage } from '../../runtime/pricing';
import type { UploadedFile } from '../http/multipart';
import type { ModelAccess } from './model-access';

/** The config a spec prepares a body against. Built once per config (see `createRequestPolicy`). */
export interface RequestPolicy {
  readonly config: GatewayConfig;
  readonly models: ModelAccess;
}

/** Who a body is prepared for: a configured client, or the batch handler's own work. */
export type Caller = Pick<ClientConfig, 'id' | 'serviceTiers' | 'reasoningEfforts'>;

/** What `prepare` is given: the policy, the authenticated caller and the parsed JSON body. */
export interface PrepareInput {
  readonly policy: RequestPolicy;
  readonly client: Caller;
  readonly body: unknown;
}

/** A body that passed its spec, ready for admission, the cache and upstream. */
export interface PreparedCall {
  readonly spec: EndpointSpec;
  /** The model or alias the caller named. */
  readonly requestedModel: string;
  /** The real model sent upstream and priced. */
  readonly model: string;
  /** The body to send upstream (model resolved, caps and defaults applied, safety identifier set). */
  readonly body: Record<string, unknown>;
  readonly stream: boolean;
  /** The caller asked for the usage chunk (`stream_options.include_usage`). */
  readonly callerWantsUsage: boolean;
  /** Deliberate over-estimate of prompt tokens, corrected at settlement. */
  readonly promptTokens: number;
  /** Most completion tokens the request can produce (output cap x choices). */
  readonly completionTokens: number;
  /** The same body gives the same answer: cacheable by default. */
  readonly deterministic: boolean;
  /**
   * The call carries audio in or out, which the model prices apart: its worst case prices each side
   * at the dearer of text and audio. @default false
   */
  readonly audio?: boolean;
  /**
   * The call carries image tokens in or out (image generation and edits), which the model prices
   * apart: its worst case prices each side at the dearer of text and image. @default false
   */
  readonly images?: boolean;
  /** Most images the call bills by the image (models priced per image). @default 0 */
  readonly billedImages?: number;
  /** Most characters the call bills by the character (speech priced per character). @default 0 */
  readonly billedCharacters?: number;
  /** Most seconds of audio the call bills by the minute (transcription priced per minute). @default 0 */
  readonly billedSeconds?: number;
  /**
   * The answer is bytes (speech audio), streamed through as upstream sends them, with upstream's
   * content type; it reports no usage, so the call is charged its worst case (exact for a price per
   * character). @default false
   */
  readonly binaryAnswer?: boolean;
  /** The `quality:size` key of the model's `imageUsd` this call is priced at. @default none */
  readonly imageVariant?: string;
  /**
   * Files of a multipart call, sent upstream as a multipart form with `body`'s fields (whose values
   * are strings, or arrays of strings for repeated fields such as `include[]`). @default none (JSON)
   */
  readonly files?: readonly UploadedFile[];
  /** Stored objects the call names or creates. @default none */
  readonly objects?: CallObjects;
  /** What this call costs against the model's standard price (its service tier's factor). @default 1 */
  readonly priceFactor?: number;
  /**
   * A background response: upstream answers before it is done, and its reservation is held until the
   * gateway sees its final status. @default false
   */
  readonly background?: boolean;
}

/**
 * Reads one streamed answer frame by frame (a frame is one SSE event without its blank line): what to
 * forward, the usage once reported, and whether the stream completed or carried an error.
 */
export interface StreamReader {
  /** The frame to forward, rewritten if need be, or undefined to drop it. */
  frame(frame: string): string | undefined;
  /** The usage upstream reported, once its frame has arrived. */
  readonly usage: TokenUsage | undefined;
  /** The stream's terminal frame arrived: it is complete. */
  readonly done: boolean;
  /** Upstream reported an error inside the stream. */
  readonly errored: boolean;
  /** Content frames forwarded (a rough completion-token count when no usage arrives). */
  readonly frames: number;
  /** The id of the object the stream creates, once its first event has named it. */
  readonly createdId?: string;
  /** Largest frame this grammar accepts (images travel whole in one frame). @default MAX_SSE_FRAME_BYTES */
  readonly maxFrameBytes?: number;
}

/** The kinds of object OpenAI stores and names by id, for the ownership rules of stored objects. */
export type StoredObjectKind = 'response' | 'conversation' | 'file' | 'batch';

/** An existing stored object a call names: the caller must own it, or the call is answered 404. */
export interface NamedObject {
  readonly kind: StoredObjectKind;
  readonly id: string;
  /** The body field (or path segment) that named it, for the error's `param`. */
  readonly param: string;
  /** Upstream bills the object's context again as input (`previous_response_id`, `conversation`). */
  readonly carriesContext: boolean;
}

/** The stored objects a call names, and the one it creates (when the answer is stored upstream). */
export interface CallObjects {
  readonly names: readonly NamedObject[];
  /** @default none */
  readonly creates?: StoredObjectKind;
}

export interface EndpointSpec {
  /** Short name, part of the cache key (changing it empties the endpoint's cache), e.g. `chat`. */
  readonly name: string;
  /** The API family the route belongs to: a client not allowed it gets 404. */
  readonly family: ApiFamily;
  /** The gateway route (POST), e.g. `/v1/chat/completions`. */
  readonly route: string;
  /** The upstream path, relative to the base URL that ends in `/v1`. */
  readonly upstreamPath: string;
  /**
   * Every body parameter the endpoint accepts. Under `limits.strictParameters` any other is refused
   * with OpenAI's 400 `unknown_parameter`; otherwise it is forwarded as is.
   */
  readonly knownParameters: ReadonlySet<string>;
  /**
   * The body arrives as `multipart/form-data` (a `MultipartBody`, up to `limits.maxFormBytes`), not
   * JSON. @default false
   */
  readonly multipart?: boolean;
  /** Validates, caps and defaults a body. @throws GatewayError with OpenAI's `param` and `code` */
  prepare(input: PrepareInput): PreparedCall;
  /** The usage of a JSON answer (of `prepared`), read without parsing all of it. */
  usageOfJson(text: string, prepared: PreparedCall): TokenUsage | undefined;
  /** The stream grammar of a streamed answer; undefined when the endpoint does not stream. */
  readonly streamReader?: (prepared: PreparedCall) => StreamReader;
  /** The text moderation reads; undefined when the endpoint is not moderated. */
  readonly moderationInput?: (body: Record<string, unknown>) => string;
  /** The id of the object a JSON answer created (for its owner record); undefined when none. */
  readonly createdIdOfJson?: (text: string) => string | undefined;
}
