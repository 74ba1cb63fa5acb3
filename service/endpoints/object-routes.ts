/**
 * Calls on stored objects that bill no tokens: retrieve, delete, cancel and list the items of a
 * response, count a prompt's input tokens, list, retrieve, read and delete files, and retrieve, list
 * and cancel batches. Each is declared here as data; the pipeline checks that
 * the caller owns the object the path (or body) names, counts the call against RPM, and relays it.
 */
import type { ApiFamily } from '../../runtime/gateway-config';
import { objectBody, type Body } from './fields';
import { namedObjects } from './responses';
import type { NamedObject, PrepareInput, StoredObjectKind } from './spec';

/** A body the route forwards, and the objects it names. */
export interface PreparedObjectBody {
  readonly body: Body;
  readonly names: readonly NamedObject[];
}

export interface ObjectRoute {
  /** The API family the route belongs to: a client not allowed it gets 404. */
  readonly family: ApiFamily;
  readonly method: 'GET' | 'POST' | 'DELETE';
  /** The gateway route; `:id` is the id of the object the caller must own. */
  readonly route: string;
  /** The kind of object `:id` names. @default the route names none */
  readonly kind?: StoredObjectKind;
  /** The upstream path (relative to `/v1`) for the object's id. */
  upstreamPath(id: string): string;
  /** Query parameters forwarded upstream; any other is dropped. */
  readonly query: readonly string[];
  /** A success deletes the object: its owner record goes too. @default false */
  readonly deletes?: boolean;
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
  },
  {
    family: 'responses',
    method: 'GET',
    route: '/v1/responses/:id/input_items',
    kind: 'response',
    upstreamPath: (id) => `/responses/${id}/input_items`,
    query: ['after', 'before', 'include', 'limit', 'order'],
  },
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
