/**
 * Calls on stored objects that bill no tokens: retrieve, delete, cancel and list the items of a
 * response, count a prompt's input tokens, the Conversations API (`conversations.ts`), list, retrieve,
 * read and delete files, retrieve, list and cancel batches, and ingest Agents SDK traces. Each is
 * declared here as data; the pipeline checks that the caller owns the object the path (or body) names,
 * counts the call against RPM, and relays it.
 */
import type { ApiFamily } from '../../runtime/gateway-config';
import { invalidRequest } from '../errors';
import { CONVERSATION_ROUTES } from './conversations';
import { objectBody, type Body } from './fields';
import { namedObjects } from './responses';
import type { NamedObject, PrepareInput, StoredObjectKind } from './spec';

/** A body the route forwards, and the objects it names. */
export interface PreparedObjectBody {
  readonly body: Body;
  readonly names: readonly NamedObject[];
  /**
   * Tokens the body adds to the context of the object it creates or extends (a conversation's items),
   * read again and billed by every response in it. @default 0
   */
  readonly contextTokens?: number;
}

export interface ObjectRoute {
  /** The API family the route belongs to: a client not allowed it gets 404. */
  readonly family: ApiFamily;
  readonly method: 'GET' | 'POST' | 'DELETE';
  /** The gateway route; `:id` is the id of the object the caller must own. */
  readonly route: string;
  /** The kind of object `:id` names. @default the route names none */
  readonly kind?: StoredObjectKind;
  /**
   * What `:item_id` names inside the `:id` object, for its 404 (the owner of `:id` owns its items).
   * @default the route has no `:item_id`
   */
  readonly itemKind?: string;
  /** The upstream path (relative to `/v1`) for the object's id (and item id). */
  upstreamPath(id: string, itemId: string): string;
  /** Query parameters forwarded upstream; any other is dropped. */
  readonly query: readonly string[];
  /** Headers upstream requires on this route (e.g. a beta flag). @default none */
  readonly upstreamHeaders?: Readonly<Record<string, string>>;
  /** A success deletes the object: its owner record goes too. @default false */
  readonly deletes?: boolean;
  /**
   * A success creates an object of this kind: it is recorded as the caller's (with the body's
   * `contextTokens`) before its id reaches the caller. @default the route creates none
   */
  readonly creates?: StoredObjectKind;
  /** A success adds the body's `contextTokens` to the `:id` object's context. @default false */
  readonly extendsContext?: boolean;
  /**
   * A JSON answer is the `:id` response as it stands: a final status settles it early if it is a
   * pending background response. @default false
   */
  readonly observesBackground?: boolean;
  /** Validates a JSON body and names the objects it refers to. @default no body is sent */
  prepareBody?(input: PrepareInput): PreparedObjectBody;
  /** The answer is the object's bytes (a file's content), streamed through as they come. @default JSON */
  readonly bytes?: boolean;
  /** The route lists objects of a kind: the caller sees only its own. @default not a list */
  readonly lists?: OwnedList;
  /**
   * The kind of object the JSON answer carries (or, for a list, each of its items): the pipeline's
   * observer of that kind sees it before the caller does (a batch's terminal status settles it).
   * @default none
   */
  readonly answers?: StoredObjectKind;
}

/** A list route's objects and cursor rules. */
export interface OwnedList {
  readonly kind: StoredObjectKind;
  /** Query parameters forwarded as they are, besides the cursor (`after`) and `limit`. */
  readonly forwarded: readonly string[];
  /** The caller's page size when it sends none, and the largest it may ask for (OpenAI's bounds). */
  readonly limits: { readonly default: number; readonly max: number };
}

/** Ids OpenAI issues: letters, digits, `_` and `-`. Anything else can never be an object's id. */
export const OBJECT_ID = /^[A-Za-z0-9_-]{1,128}$/;

/** `POST /v1/responses/input_tokens`: the model must be the caller's, and so must what it continues. */
function prepareTokenCount({ policy, client, body: raw }: PrepareInput): PreparedObjectBody {
  const body = objectBody(raw);
  const { model } = policy.models.resolve(client, body.model);
  return { body: { ...body, model }, names: namedObjects(body, false) };
}

/**
 * `POST /v1/traces/ingest`, where the Agents SDK's `OpenAITracingExporter` posts `{ data: [trace |
 * trace.span, ...] }`: the batch goes upstream as it came, with the stage key, billing nothing.
 */
function prepareTraceBatch({ body: raw }: PrepareInput): PreparedObjectBody {
  const body = objectBody(raw);
  if (!Array.isArray(body.data)) throw invalidRequest("'data' must be an array of traces and spans.", 'data');
  return { body, names: [] };
}

export const OBJECT_ROUTES: readonly ObjectRoute[] = [
  {
    family: 'responses',
    method: 'POST',
    route: '/v1/responses/input_tokens',
    upstreamPath: () => '/responses/input_tokens',
    query: [],
    prepareBody: prepareTokenCount,
  },
  {
    family: 'responses',
    method: 'GET',
    route: '/v1/responses/:id',
    kind: 'response',
    upstreamPath: (id) => `/responses/${id}`,
    query: ['include', 'include_obfuscation', 'starting_after', 'stream'],
    observesBackground: true,
  },
  {
    family: 'responses',
    method: 'DELETE',
    route: '/v1/responses/:id',
    kind: 'response',
    upstreamPath: (id) => `/responses/${id}`,
    query: [],
    deletes: true,
  },
  {
    family: 'responses',
    method: 'POST',
    route: '/v1/responses/:id/cancel',
    kind: 'response',
    upstreamPath: (id) => `/responses/${id}/cancel`,
    query: [],
    observesBackground: true,
  },
  {
    family: 'responses',
    method: 'GET',
    route: '/v1/responses/:id/input_items',
    kind: 'response',
    upstreamPath: (id) => `/responses/${id}/input_items`,
    query: ['after', 'before', 'include', 'limit', 'order'],
  },
  ...CONVERSATION_ROUTES,
  {
    family: 'files',
    method: 'GET',
    route: '/v1/files',
    upstreamPath: () => '/files',
    query: [],
    lists: { kind: 'file', forwarded: ['order', 'purpose'], limits: { default: 10_000, max: 10_000 } },
  },
  {
    family: 'files',
    method: 'GET',
    route: '/v1/files/:id',
    kind: 'file',
    upstreamPath: (id) => `/files/${id}`,
    query: [],
  },
  {
    family: 'files',
    method: 'DELETE',
    route: '/v1/files/:id',
    kind: 'file',
    upstreamPath: (id) => `/files/${id}`,
    query: [],
    deletes: true,
  },
  {
    family: 'files',
    method: 'GET',
    route: '/v1/files/:id/content',
    kind: 'file',
    upstreamPath: (id) => `/files/${id}/content`,
    query: [],
    bytes: true,
  },
  {
    family: 'traces',
    method: 'POST',
    route: '/v1/traces/ingest',
    upstreamPath: () => '/traces/ingest',
    // The header the Agents SDK's exporter sends; OpenAI's traces API is a beta.
    upstreamHeaders: { 'openai-beta': 'traces=v1' },
    query: [],
    prepareBody: prepareTraceBatch,
  },
  {
    family: 'batches',
    method: 'GET',
    route: '/v1/batches',
    upstreamPath: () => '/batches',
    query: [],
    lists: { kind: 'batch', forwarded: [], limits: { default: 20, max: 100 } },
    answers: 'batch',
  },
  {
    family: 'batches',
    method: 'GET',
    route: '/v1/batches/:id',
    kind: 'batch',
    upstreamPath: (id) => `/batches/${id}`,
    query: [],
    answers: 'batch',
  },
  {
    family: 'batches',
    method: 'POST',
    route: '/v1/batches/:id/cancel',
    kind: 'batch',
    upstreamPath: (id) => `/batches/${id}/cancel`,
    query: [],
    answers: 'batch',
  },
];
