/**
 * The Conversations API (family `conversations`) as object routes: create a conversation (with up to
 * 20 items and metadata), retrieve, update its metadata, delete it, and add, list, retrieve and delete
 * its items. A conversation is its creator's, recorded before its id reaches the caller; every call
 * naming it needs that ownership. These calls bill no tokens, but the items a conversation holds are
 * billed again as input by every response in it: the estimate of the items created with it or added
 * to it joins its owner record (`contextTokens`), so a response in it reserves what it holds.
 */
import { invalidRequest } from '../errors';
import { checkKnownParameters, checkMetadata, isObject, objectBody, type Body } from './fields';
import type { ObjectRoute, PreparedObjectBody } from './object-routes';
import { contextTokensOf } from './prompt-size';
import { itemsSize } from './responses';
import type { PrepareInput } from './spec';

/** Most items a call may create at once, as OpenAI allows. */
export const MAX_CONVERSATION_ITEMS = 20;

/** Body parameters of `POST /v1/conversations` (the SDK's `ConversationCreateParams`). */
const CREATE_PARAMETERS: ReadonlySet<string> = new Set(['items', 'metadata']);
/** Body parameters of `POST /v1/conversations/{id}` (`ConversationUpdateParams`). */
const UPDATE_PARAMETERS: ReadonlySet<string> = new Set(['metadata']);
/** Body parameters of `POST /v1/conversations/{id}/items` (`ItemCreateParams`; `include` is a query). */
const ITEMS_PARAMETERS: ReadonlySet<string> = new Set(['items']);

/** `items`: an array of at most 20 item objects, at least `min`. @throws GatewayError 400 */
function checkItems(body: Body, min: number): readonly unknown[] {
  const items = body.items;
  if (items === undefined || items === null) {
    if (min > 0)
      throw invalidRequest("Missing required parameter: 'items'.", 'items', 'missing_required_parameter');
    return [];
  }
  if (!Array.isArray(items)) throw invalidRequest("'items' must be an array.", 'items');
  if (items.length < min) throw invalidRequest(`'items' must hold at least ${min} item.`, 'items');
  if (items.length > MAX_CONVERSATION_ITEMS)
    throw invalidRequest(
      `'items' has ${items.length} items; at most ${MAX_CONVERSATION_ITEMS} are allowed at once.`,
      'items',
    );
  items.forEach((item, i) => {
    if (!isObject(item)) throw invalidRequest(`'items[${i}]' must be an object.`, `items[${i}]`);
  });
  return items;
}

/** The tokens `items` add to a conversation, as any configured model would bill them. */
function itemsTokens({ policy }: PrepareInput, items: readonly unknown[]): number {
  const size = itemsSize(items, policy.config.limits.maxTokens);
  return items.length === 0 ? 0 : contextTokensOf(size, policy.config.models);
}

function prepareCreate(input: PrepareInput): PreparedObjectBody {
  // The SDK sends `{}` for `create()`; a body-less POST means the same.
  const body = input.body === undefined || input.body === null ? {} : objectBody(input.body);
  checkKnownParameters(body, CREATE_PARAMETERS, input.policy.config.limits);
  const items = checkItems(body, 0);
  checkMetadata(body);
  return { body, names: [], contextTokens: itemsTokens(input, items) };
}

function prepareUpdate(input: PrepareInput): PreparedObjectBody {
  const body = objectBody(input.body);
  checkKnownParameters(body, UPDATE_PARAMETERS, input.policy.config.limits);
  if (!isObject(body.metadata))
    throw invalidRequest(
      "Missing required parameter: 'metadata' (an object).",
      'metadata',
      'missing_required_parameter',
    );
  checkMetadata(body);
  return { body, names: [] };
}

function prepareItems(input: PrepareInput): PreparedObjectBody {
  const body = objectBody(input.body);
  checkKnownParameters(body, ITEMS_PARAMETERS, input.policy.config.limits);
  const items = checkItems(body, 1);
  return { body, names: [], contextTokens: itemsTokens(input, items) };
}

const conversationPath = (id: string): string => `/conversations/${id}`;

export const CONVERSATION_ROUTES: readonly ObjectRoute[] = [
  {
    family: 'conversations',
    method: 'POST',
    route: '/v1/conversations',
    upstreamPath: () => '/conversations',
    query: [],
    creates: 'conversation',
    prepareBody: prepareCreate,
  },
  {
    family: 'conversations',
    method: 'GET',
    route: '/v1/conversations/:id',
    kind: 'conversation',
    upstreamPath: conversationPath,
    query: [],
  },
  {
    family: 'conversations',
    method: 'POST',
    route: '/v1/conversations/:id',
    kind: 'conversation',
    upstreamPath: conversationPath,
    query: [],
    prepareBody: prepareUpdate,
  },
  {
    family: 'conversations',
    method: 'DELETE',
    route: '/v1/conversations/:id',
    kind: 'conversation',
    upstreamPath: conversationPath,
    query: [],
    deletes: true,
  },
  {
    family: 'conversations',
    method: 'POST',
    route: '/v1/conversations/:id/items',
    kind: 'conversation',
    upstreamPath: (id) => `${conversationPath(id)}/items`,
    query: ['include'],
    extendsContext: true,
    prepareBody: prepareItems,
  },
  {
    family: 'conversations',
    method: 'GET',
    route: '/v1/conversations/:id/items',
    kind: 'conversation',
    upstreamPath: (id) => `${conversationPath(id)}/items`,
    query: ['after', 'include', 'limit', 'order'],
  },
  {
    family: 'conversations',
    method: 'GET',
    route: '/v1/conversations/:id/items/:item_id',
    kind: 'conversation',
    itemKind: 'item',
    upstreamPath: (id, itemId) => `${conversationPath(id)}/items/${itemId}`,
    query: ['include'],
  },
  {
    family: 'conversations',
    method: 'DELETE',
    route: '/v1/conversations/:id/items/:item_id',
    kind: 'conversation',
    itemKind: 'item',
    upstreamPath: (id, itemId) => `${conversationPath(id)}/items/${itemId}`,
    query: [],
  },
];
