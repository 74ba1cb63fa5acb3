/**
 * Calls on stored objects that bill no tokens: retrieve, delete, cancel and list the items of a
 * response, count a prompt's input tokens, and ingest Agents SDK traces. Each is declared here as data; the pipeline checks that
 * the caller owns the object the path (or body) names, counts the call against RPM, and relays it.
 */
import type { ApiFamily } from '../../runtime/gateway-config';
import { invalidRequest } from '../errors';
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
  /** Headers upstream requires on this route (e.g. a beta flag). @default none */
  readonly upstreamHeaders?: Readonly<Record<string, string>>;
  /** A success deletes the object: its owner record goes too. @default false */
  readonly deletes?: boolean;
  /** Validates a JSON body and names the objects it refers to. @default no body is sent */
  prepareBody?(input: PrepareInput): PreparedObjectBody;
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
    family: 'traces',
    method: 'POST',
    route: '/v1/traces/ingest',
    upstreamPath: () => '/traces/ingest',
    // The header the Agents SDK's exporter sends; OpenAI's traces API is a beta.
    upstreamHeaders: { 'openai-beta': 'traces=v1' },
    query: [],
    prepareBody: prepareTraceBatch,
  },
];
