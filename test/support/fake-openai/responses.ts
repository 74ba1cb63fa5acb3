/**
 * OpenAI's Responses API on the fake: `POST /v1/responses` (JSON, typed SSE events, background mode),
 * stored responses (`store` defaults to true) with `GET /v1/responses/{id}` (also replayed as a stream
 * after `starting_after`), `DELETE`, `POST .../cancel`, `GET .../input_items`, and
 * `POST /v1/responses/input_tokens` and `/compact`. `previous_response_id` and `conversation` give the
 * model the stored context, and bill it, as OpenAI bills the whole context.
 *
 * Billing: a foreground response is billed when it starts (even if the client leaves); a background
 * one when it reaches its terminal status, so a background response cancelled before then bills
 * nothing.
 */
import type { ConversationStore } from './conversations';
import { conversationNotFound, itemNotFound } from './conversations';
import { cutConnection, openSse, sendError, sendJson, sleep, writeSse } from './http';
import { itemId, toItems, type Item } from './items';
import { cursorPage } from './pagination';
import { refuseUnknownParameter } from './parameters';
import {
  DELTA_EVENTS,
  eventsOf,
  generate,
  MIN_OUTPUT_TOKENS,
  responseObject,
  TERMINAL_EVENTS,
} from './responses-model';
import type { Endpoint, EndpointContext } from './types';
import { chatUsageOf, countTokens, responsesInputTokensOf, responseUsageOf, scriptedCounts } from './usage';
import { newId, nowSeconds } from './wire';

type Json = Record<string, unknown>;

interface StoredResponse {
  readonly id: string;
  readonly background: boolean;
  /** This request's input, as stored items. */
  readonly inputItems: readonly Item[];
  /** The stored context before the input (the previous response's chain, or the conversation). */
  readonly context: readonly Item[];
  readonly conversationId?: string;
  /** The `Response` as it stands. */
  snapshot: Json;
  /** Every event so far, numbered. */
  readonly events: Json[];
  done: boolean;
  /** Stopped before its end (cancelled, or the fake reset). */
  halted: boolean;
  readonly listeners: Set<() => void>;
  readonly timers: Set<NodeJS.Timeout>;
  /** Runs at the terminal event. */
  readonly onDone?: () => void;
}

interface Context {
  readonly prior: readonly Item[];
  readonly items: readonly Item[];
  readonly conversationId?: string;
}

const ID = '([^/]+)';

export class ResponsesStore {
  private readonly responses = new Map<string, StoredResponse>();

  constructor(private readonly conversations: ConversationStore) {}

  readonly endpoints: readonly Endpoint[] = [
    { method: 'POST', path: '/v1/responses', handle: (ctx) => this.create(ctx), billsWhenAbandoned: true },
    { method: 'POST', path: '/v1/responses/input_tokens', handle: (ctx) => this.inputTokens(ctx) },
    {
      method: 'POST',
      path: '/v1/responses/compact',
      handle: (ctx) => this.compact(ctx),
      billsWhenAbandoned: true,
    },
    { method: 'GET', path: new RegExp(`^/v1/responses/${ID}$`), handle: (ctx) => this.retrieve(ctx) },
    { method: 'DELETE', path: new RegExp(`^/v1/responses/${ID}$`), handle: (ctx) => this.delete(ctx) },
    { method: 'POST', path: new RegExp(`^/v1/responses/${ID}/cancel$`), handle: (ctx) => this.cancel(ctx) },
    {
      method: 'GET',
      path: new RegExp(`^/v1/responses/${ID}/input_items$`),
      handle: (ctx) => this.inputItems(ctx),
    },
  ];

  /** Forgets every stored response and stops the ones still running. */
  clear(): void {
    for (const record of this.responses.values()) this.halt(record);
    this.responses.clear();
  }

  private create(ctx: EndpointContext): void | Promise<void> {
    const { res, scripted, behaviour } = ctx;
    const body = ctx.request.body as Json | undefined;
    if (refuseUnknownParameter(res, body, 'responses.create')) return;
    if (!body || typeof body.model !== 'string')
      return sendError(res, 400, "Missing required parameter: 'model'.", { param: 'model' });
    const background = body.background === true;
    if (background && body.store === false)
      return sendError(res, 400, 'Background mode requires store=true.', { param: 'store' });
    if (typeof body.max_output_tokens === 'number' && body.max_output_tokens < MIN_OUTPUT_TOKENS) {
      return sendError(
        res,
        400,
        `Invalid 'max_output_tokens': integer below minimum value. Expected a value >= ${MIN_OUTPUT_TOKENS}, but got ${body.max_output_tokens} instead.`,
        { code: 'integer_below_min_value', param: 'max_output_tokens' },
      );
    }
    const context = this.contextOf(ctx, body);
    if (!context) return;

    const id = newId('resp', '_');
    const base = responseObject(id, body, {
      status: background ? 'queued' : 'in_progress',
      conversationId: context.conversationId,
    });
    const generation = generate(body, [...context.prior, ...context.items], scripted, behaviour);
    const bill = () =>
      ctx.bill({ model: body.model as string, usage: chatUsageOf(generation.counts), endpoint: 'responses' });
    const record: StoredResponse = {
      id,
      background,
      inputItems: context.items,
      context: context.prior,
      conversationId: context.conversationId,
      snapshot: base,
      events: [],
      done: false,
      halted: false,
      listeners: new Set(),
      timers: new Set(),
      onDone: background ? bill : undefined,
    };
    if (body.store !== false) this.responses.set(id, record);
    if (!background) bill();
    const events = eventsOf(base, generation, scripted.chunks ?? behaviour.chunks, body);

    if (body.stream === true) {
      void this.play(record, events, scripted.chunkDelayMs ?? behaviour.chunkDelayMs);
      return this.pipe(record, ctx, -1, scripted.cutAfterChunks);
    }
    if (!background) {
      for (const event of events) this.push(record, event);
      return sendJson(res, 200, record.snapshot);
    }
    // Queued now, in progress at once, done after `backgroundMs`.
    const [created, queued, inProgress, ...rest] = events;
    this.push(record, created);
    this.push(record, queued);
    this.later(record, 0, () => this.push(record, inProgress));
    this.later(record, behaviour.backgroundMs, () => rest.forEach((e) => this.push(record, e)));
    sendJson(res, 200, record.snapshot);
  }

  private retrieve(ctx: EndpointContext): void | Promise<void> {
    const record = this.found(ctx);
    if (!record) return;
    const { query } = ctx.request;
    if (query.get('stream') === 'true') {
      const after = Number(query.get('starting_after') ?? -1);
      return this.pipe(record, ctx, Number.isInteger(after) ? after : -1, ctx.scripted.cutAfterChunks);
    }
    sendJson(ctx.res, 200, record.snapshot);
  }

  private delete(ctx: EndpointContext): void {
    const record = this.found(ctx);
    if (!record) return;
    this.responses.delete(record.id);
    sendJson(ctx.res, 200, { id: record.id, object: 'response', deleted: true });
  }

  private cancel(ctx: EndpointContext): void {
    const record = this.found(ctx);
    if (!record) return;
    if (!record.background) return sendError(ctx.res, 400, 'Only background responses can be cancelled.');
    // Cancelling a response already done answers it as it ended.
    if (!record.done) {
      this.halt(record);
      record.snapshot = { ...record.snapshot, status: 'cancelled' };
      this.notify(record);
    }
    sendJson(ctx.res, 200, record.snapshot);
  }

  private inputItems(ctx: EndpointContext): void {
    const record = this.found(ctx);
    if (!record) return;
    const result = cursorPage(record.inputItems, ctx.request.query, 'desc');
    if ('error' in result) return sendError(ctx.res, 400, result.error, { param: result.param });
    sendJson(ctx.res, 200, result.page);
  }

  private inputTokens(ctx: EndpointContext): void {
    const body = (ctx.request.body ?? {}) as Json;
    if (refuseUnknownParameter(ctx.res, body, 'responses.input_tokens')) return;
    const context = this.contextOf(ctx, body);
    if (!context) return;
    const input_tokens = responsesInputTokensOf(body, [...context.prior, ...context.items]);
    sendJson(ctx.res, 200, { object: 'response.input_tokens', input_tokens });
  }

  /** A compaction: the context's user messages, then one opaque compaction item standing for the rest. */
  private compact(ctx: EndpointContext): void {
    const body = ctx.request.body as Json | undefined;
    if (refuseUnknownParameter(ctx.res, body, 'responses.compact')) return;
    if (!body || typeof body.model !== 'string')
      return sendError(ctx.res, 400, "Missing required parameter: 'model'.", { param: 'model' });
    const context = this.contextOf(ctx, body);
    if (!context) return;
    const all = [...context.prior, ...context.items];
    const compaction = {
      id: itemId('compaction'),
      type: 'compaction',
      encrypted_content: `gAAAAA${Buffer.from(newId('summary', '_')).toString('base64url')}`,
    };
    const override = scriptedCounts(ctx.scripted.usage);
    const counts = {
      input: override.input ?? responsesInputTokensOf(body, all),
      output: override.output ?? countTokens(compaction.encrypted_content),
      reasoning: override.reasoning ?? 0,
      cached: override.cached ?? 0,
      cacheWrite: override.cacheWrite ?? 0,
    };
    ctx.bill({ model: body.model, usage: chatUsageOf(counts), endpoint: 'responses.compact' });
    sendJson(ctx.res, 200, {
      id: newId('resp', '_'),
      object: 'response.compaction',
      created_at: nowSeconds(),
      output: [...all.filter((i) => i.type === 'message' && i.role === 'user'), compaction],
      usage: responseUsageOf(counts),
    });
  }

  /** The stored response a path names, or undefined after answering OpenAI's 404. */
  private found(ctx: EndpointContext): StoredResponse | undefined {
    const record = this.responses.get(ctx.params[0]);
    if (!record) sendError(ctx.res, 404, `Response with id '${ctx.params[0]}' not found.`);
    return record;
  }

  /**
   * What the model reads before this request's input: the chain of `previous_response_id` (its
   * context, its input and its output), or the conversation's items. Undefined after answering the error.
   */
  private contextOf(ctx: EndpointContext, body: Json): Context | undefined {
    const previousId = body.previous_response_id;
    const conversation = body.conversation as string | { id?: unknown } | null | undefined;
    const conversationId =
      typeof conversation === 'string'
        ? conversation
        : typeof conversation?.id === 'string'
          ? conversation.id
          : undefined;
    if (previousId != null && conversation != null) {
      sendError(
        ctx.res,
        400,
        "Mutually exclusive parameters: Ensure you are only providing one of: 'previous_response_id' or 'conversation'.",
        { code: 'mutually_exclusive_parameters' },
      );
      return undefined;
    }
    let prior: readonly Item[] = [];
    if (typeof previousId === 'string') {
      const previous = this.responses.get(previousId);
      if (!previous) {
        sendError(ctx.res, 400, `Previous response with id '${previousId}' not found.`, {
          code: 'previous_response_not_found',
          param: 'previous_response_id',
        });
        return undefined;
      }
      prior = [...previous.context, ...previous.inputItems, ...((previous.snapshot.output as Item[]) ?? [])];
    } else if (typeof conversationId === 'string') {
      const items = this.conversations.items(conversationId);
      if (!items) {
        sendError(ctx.res, 404, conversationNotFound(conversationId), { param: 'conversation' });
        return undefined;
      }
      prior = [...items];
    }
    const converted = toItems(body.input, (id) => this.findItem(id));
    if ('missing' in converted) {
      sendError(ctx.res, 404, itemNotFound(converted.missing), { param: 'input' });
      return undefined;
    }
    return { prior, items: converted.items, conversationId };
  }

  /** A stored item by id, for `item_reference` inputs. */
  private findItem(id: string): Item | undefined {
    for (const record of this.responses.values()) {
      const items = [...record.inputItems, ...((record.snapshot.output as Item[]) ?? [])];
      const found = items.find((i) => i.id === id);
      if (found) return found;
    }
    return this.conversations.findItem(id);
  }

  /** Emits `events` in order, pausing before each delta and the terminal event. */
  private async play(record: StoredResponse, events: readonly Json[], delayMs: number): Promise<void> {
    for (const event of events) {
      const type = String(event.type);
      if (delayMs > 0 && (DELTA_EVENTS.has(type) || TERMINAL_EVENTS.has(type))) await sleep(delayMs);
      if (record.halted) return;
      this.push(record, event);
    }
  }

  private push(record: StoredResponse, event: Json): void {
    if (record.halted || record.done) return;
    record.events.push({ type: event.type, sequence_number: record.events.length, ...event });
    if (event.response) record.snapshot = event.response as Json;
    if (TERMINAL_EVENTS.has(String(event.type))) {
      record.done = true;
      if (record.conversationId && event.type !== 'response.failed')
        this.conversations.append(record.conversationId, [
          ...record.inputItems,
          ...(record.snapshot.output as Item[]),
        ]);
      record.onDone?.();
    }
    this.notify(record);
  }

  private later(record: StoredResponse, ms: number, run: () => void): void {
    const timer = setTimeout(() => {
      record.timers.delete(timer);
      run();
    }, ms);
    record.timers.add(timer);
  }

  private halt(record: StoredResponse): void {
    for (const timer of record.timers) clearTimeout(timer);
    record.timers.clear();
    record.halted = true;
    record.done = true;
    this.notify(record);
  }

  private notify(record: StoredResponse): void {
    for (const listener of [...record.listeners]) listener();
  }

  /**
   * Streams the record's events after `startingAfter` as SSE (`event: <type>` / `data: <json>`),
   * following it live until its end; no `[DONE]`. `cutAfter` destroys the socket after that many
   * deltas, before any terminal event.
   */
  private pipe(
    record: StoredResponse,
    ctx: EndpointContext,
    startingAfter: number,
    cutAfter: number | undefined,
  ): Promise<void> {
    const { res } = ctx;
    if (!openSse(res)) return Promise.resolve();
    let next = Math.max(0, startingAfter + 1);
    let deltas = 0;
    return new Promise<void>((resolve) => {
      const stop = () => {
        record.listeners.delete(flush);
        resolve();
      };
      const flush = () => {
        while (next < record.events.length) {
          if (res.destroyed) return stop();
          const event = record.events[next];
          if (DELTA_EVENTS.has(String(event.type))) {
            if (cutAfter !== undefined && deltas >= cutAfter) {
              ctx.markCut();
              stop();
              return void cutConnection(res);
            }
            deltas++;
          }
          writeSse(res, event, String(event.type));
          next++;
        }
        if (record.done) {
          res.end();
          stop();
        }
      };
      record.listeners.add(flush);
      res.on('close', stop);
      flush();
    });
  }
}
