/**
 * OpenAI's Conversations API, in memory: `/v1/conversations` (create with `items` and `metadata`,
 * retrieve, update metadata, delete) and `/v1/conversations/{id}/items` (create, list, retrieve, delete),
 * in the shapes of the SDK's `Conversation`, `ConversationDeletedResource`, `ConversationItemList`.
 * A response created with `conversation` reads its context here and appends its input and output.
 */
import { sendError, sendJson } from './http';
import { toItems, type Item } from './items';
import { cursorPage, wholeList } from './pagination';
import { refuseUnknownParameter } from './parameters';
import type { Endpoint, EndpointContext } from './types';
import { newId, nowSeconds } from './wire';

interface StoredConversation {
  readonly conversation: { id: string; object: 'conversation'; created_at: number; metadata: unknown };
  readonly items: Item[];
}

const ID = '(conv_[A-Za-z0-9]+)';
const ITEM_ID = '([A-Za-z0-9_-]+)';

export class ConversationStore {
  private readonly conversations = new Map<string, StoredConversation>();

  /** The conversation's items, oldest first; undefined when there is no such conversation. */
  items(id: string): readonly Item[] | undefined {
    return this.conversations.get(id)?.items;
  }

  append(id: string, items: readonly Item[]): void {
    this.conversations.get(id)?.items.push(...items);
  }

  findItem(itemId: string): Item | undefined {
    for (const { items } of this.conversations.values()) {
      const found = items.find((i) => i.id === itemId);
      if (found) return found;
    }
    return undefined;
  }

  clear(): void {
    this.conversations.clear();
  }

  readonly endpoints: readonly Endpoint[] = [
    { method: 'POST', path: '/v1/conversations', handle: (ctx) => this.create(ctx) },
    { method: 'GET', path: new RegExp(`^/v1/conversations/${ID}$`), handle: (ctx) => this.retrieve(ctx) },
    { method: 'POST', path: new RegExp(`^/v1/conversations/${ID}$`), handle: (ctx) => this.update(ctx) },
    { method: 'DELETE', path: new RegExp(`^/v1/conversations/${ID}$`), handle: (ctx) => this.delete(ctx) },
    {
      method: 'POST',
      path: new RegExp(`^/v1/conversations/${ID}/items$`),
      handle: (ctx) => this.addItems(ctx),
    },
    {
      method: 'GET',
      path: new RegExp(`^/v1/conversations/${ID}/items$`),
      handle: (ctx) => this.listItems(ctx),
    },
    {
      method: 'GET',
      path: new RegExp(`^/v1/conversations/${ID}/items/${ITEM_ID}$`),
      handle: (ctx) => this.retrieveItem(ctx),
    },
    {
      method: 'DELETE',
      path: new RegExp(`^/v1/conversations/${ID}/items/${ITEM_ID}$`),
      handle: (ctx) => this.deleteItem(ctx),
    },
  ];

  /** The conversation a request names, or undefined after answering OpenAI's 404. */
  private found(ctx: EndpointContext): StoredConversation | undefined {
    const stored = this.conversations.get(ctx.params[0]);
    if (!stored) sendError(ctx.res, 404, conversationNotFound(ctx.params[0]));
    return stored;
  }

  private create(ctx: EndpointContext): void {
    const body = (ctx.request.body ?? {}) as Record<string, unknown>;
    if (refuseUnknownParameter(ctx.res, body, 'conversations.create')) return;
    const converted = toItems(body.items ?? []);
    if ('missing' in converted) return sendError(ctx.res, 404, itemNotFound(converted.missing));
    const conversation = {
      id: newId('conv', '_'),
      object: 'conversation' as const,
      created_at: nowSeconds(),
      metadata: body.metadata ?? {},
    };
    this.conversations.set(conversation.id, { conversation, items: converted.items });
    sendJson(ctx.res, 200, conversation);
  }

  private retrieve(ctx: EndpointContext): void {
    const stored = this.found(ctx);
    if (stored) sendJson(ctx.res, 200, stored.conversation);
  }

  private update(ctx: EndpointContext): void {
    const body = ctx.request.body as Record<string, unknown> | undefined;
    if (refuseUnknownParameter(ctx.res, body, 'conversations.update')) return;
    if (!body || !('metadata' in body))
      return sendError(ctx.res, 400, "Missing required parameter: 'metadata'.", { param: 'metadata' });
    const stored = this.found(ctx);
    if (!stored) return;
    stored.conversation.metadata = body.metadata ?? {};
    sendJson(ctx.res, 200, stored.conversation);
  }

  private delete(ctx: EndpointContext): void {
    if (!this.found(ctx)) return;
    this.conversations.delete(ctx.params[0]);
    sendJson(ctx.res, 200, { id: ctx.params[0], object: 'conversation.deleted', deleted: true });
  }

  private addItems(ctx: EndpointContext): void {
    const body = ctx.request.body as Record<string, unknown> | undefined;
    if (refuseUnknownParameter(ctx.res, body, 'conversations.items.create')) return;
    if (!Array.isArray(body?.items))
      return sendError(ctx.res, 400, "Missing required parameter: 'items'.", { param: 'items' });
    const stored = this.found(ctx);
    if (!stored) return;
    const converted = toItems(body.items, (id) => this.findItem(id));
    if ('missing' in converted) return sendError(ctx.res, 404, itemNotFound(converted.missing));
    stored.items.push(...converted.items);
    sendJson(ctx.res, 200, wholeList(converted.items));
  }

  private listItems(ctx: EndpointContext): void {
    const stored = this.found(ctx);
    if (!stored) return;
    const result = cursorPage(stored.items, ctx.request.query, 'desc');
    if ('error' in result) return sendError(ctx.res, 400, result.error, { param: result.param });
    sendJson(ctx.res, 200, result.page);
  }

  private retrieveItem(ctx: EndpointContext): void {
    const stored = this.found(ctx);
    if (!stored) return;
    const item = stored.items.find((i) => i.id === ctx.params[1]);
    if (!item) return sendError(ctx.res, 404, itemNotFound(ctx.params[1]));
    sendJson(ctx.res, 200, item);
  }

  private deleteItem(ctx: EndpointContext): void {
    const stored = this.found(ctx);
    if (!stored) return;
    const index = stored.items.findIndex((i) => i.id === ctx.params[1]);
    if (index === -1) return sendError(ctx.res, 404, itemNotFound(ctx.params[1]));
    stored.items.splice(index, 1);
    sendJson(ctx.res, 200, stored.conversation);
  }
}

export const conversationNotFound = (id: string): string => `Conversation with id '${id}' not found.`;
export const itemNotFound = (id: string): string => `Item with id '${id}' not found.`;
