/**
 * The backends of `PendingEntries` (background responses, batches): in process (a single replica,
 * tests) and in Redis/Valkey, one namespace per kind: `oai:<stage>:<kind>:<id>` holds each entry and
 * the sorted set `oai:<stage>:<kind>` their ids by hold time. A claim is one GETDEL, which exactly one
 * replica wins. Behind the admissions' breaker like the owner records, with no local fallback: another
 * replica may have to settle what this one held.
 */
import type Redis from 'ioredis';
import { isJsonObject, parseJsonObject } from '../../runtime/json';
import { GuardedCommands, type CircuitBreaker } from './circuit-breaker';
import type { CommandDeadline } from './command-deadline';
import { StoreOperationError } from './errors';
import type {
  PendingBatch,
  PendingEntries,
  PendingEntry,
  PendingResponse,
  StoreErrorListener,
} from './types';

/** Reads a stored entry back: undefined for anything that is not an entry of its kind. */
export type EntryReader<T extends PendingEntry> = (value: Record<string, unknown>) => T | undefined;

/** A background response's entry: its price and worst case are what settlement needs. */
export const readPendingResponse: EntryReader<PendingResponse> = (value) =>
  isJsonObject(value.price) && isJsonObject(value.worstCase)
    ? (value as unknown as PendingResponse)
    : undefined;

/** A batch's entry: the model its lines call is what settlement prices. */
export const readPendingBatch: EntryReader<PendingBatch> = (value) =>
  typeof value.model === 'string' ? (value as unknown as PendingBatch) : undefined;

/** A stored entry read back; anything without an id, a client, a ticket and a hold time is no entry. */
function entryOf<T extends PendingEntry>(text: string | null, read: EntryReader<T>): T | undefined {
  const value = text === null ? undefined : parseJsonObject(text);
  if (value === undefined || typeof value.id !== 'string' || typeof value.clientId !== 'string')
    return undefined;
  if (!isJsonObject(value.ticket) || typeof value.heldAt !== 'number') return undefined;
  return read(value);
}

/** The `limit` items of `items` from position `from`, wrapping around. */
function window<T>(items: readonly T[], limit: number, from: number): T[] {
  if (items.length <= limit) return [...items];
  const start = from % items.length;
  return [...items.slice(start), ...items.slice(0, start)].slice(0, limit);
}

export class MemoryPendingEntries<T extends PendingEntry> implements PendingEntries<T> {
  private readonly entries = new Map<string, T>();

  async hold(entry: T): Promise<void> {
    this.entries.set(entry.id, entry);
  }

  async list(limit: number, from = 0): Promise<T[]> {
    const oldestFirst = [...this.entries.values()].sort((a, b) => a.heldAt - b.heldAt);
    return window(oldestFirst, limit, from);
  }

  async claim(id: string): Promise<T | undefined> {
    const entry = this.entries.get(id);
    this.entries.delete(id);
    return entry;
  }
}

export class RedisPendingEntries<T extends PendingEntry> implements PendingEntries<T> {
  private readonly index: string;

  constructor(
    private readonly redis: Redis,
    /** Key prefix of the stage and kind, e.g. `oai:<stage>:bg`. */
    namespace: string,
    private readonly read: EntryReader<T>,
  ) {
    this.index = namespace;
  }

  async hold(entry: T): Promise<void> {
    await this.run('pending_hold', () =>
      this.redis
        .multi()
        .set(this.key(entry.id), JSON.stringify(entry))
        .zadd(this.index, entry.heldAt, entry.id)
        .exec(),
    );
  }

  async list(limit: number, from = 0): Promise<T[]> {
    const total = await this.run('pending_list', () => this.redis.zcard(this.index));
    if (total === 0) return [];
    const start = total <= limit ? 0 : from % total;
    const ids = await this.run('pending_list', () => this.redis.zrange(this.index, start, start + limit - 1));
    // Wrapped around: the oldest entries fill what is left of the window.
    if (ids.length < limit && start > 0) {
      const rest = await this.run('pending_list', () =>
        this.redis.zrange(this.index, 0, Math.min(start, limit - ids.length) - 1),
      );
      ids.push(...rest);
    }
    if (ids.length === 0) return [];
    const texts = await this.run('pending_list', () => this.redis.mget(ids.map((id) => this.key(id))));
    const entries: T[] = [];
    const gone: string[] = [];
    texts.forEach((text, i) => {
      const entry = entryOf(text, this.read);
      if (entry) entries.push(entry);
      else gone.push(ids[i]);
    });
    // Ids whose entry was claimed (or is unreadable) leave the index.
    if (gone.length > 0) await this.run('pending_list', () => this.redis.zrem(this.index, ...gone));
    return entries;
  }

  async claim(id: string): Promise<T | undefined> {
    const text = await this.run('pending_claim', () => this.redis.getdel(this.key(id)));
    if (text !== null) await this.run('pending_claim', () => this.redis.zrem(this.index, id)).catch(() => 0);
    return entryOf(text, this.read);
  }

  private key(id: string): string {
    return `${this.index}:${id}`;
  }

  private async run<R>(operation: string, command: () => Promise<R>): Promise<R> {
    try {
      return await command();
    } catch (err) {
      throw new StoreOperationError(operation, err);
    }
  }
}

/** Redis pending entries behind the admissions' breaker, as `GuardedObjectOwners` are. */
export class GuardedPendingEntries<T extends PendingEntry> implements PendingEntries<T> {
  private readonly guarded: GuardedCommands;

  constructor(
    private readonly primary: PendingEntries<T>,
    breaker: CircuitBreaker,
    onError?: StoreErrorListener,
    deadline?: CommandDeadline,
  ) {
    this.guarded = new GuardedCommands(breaker, onError, deadline);
  }

  hold(entry: T): Promise<void> {
    return this.guarded.run('pending_hold', () => this.primary.hold(entry));
  }

  list(limit: number, from?: number): Promise<T[]> {
    return this.guarded.run('pending_list', () => this.primary.list(limit, from));
  }

  claim(id: string): Promise<T | undefined> {
    return this.guarded.run('pending_claim', () => this.primary.claim(id));
  }
}
