/**
 * The two backends of `PendingResponses`: in process (a single replica, tests) and in Redis/Valkey
 * (`oai:<stage>:bg:<id>` holds each entry, the sorted set `oai:<stage>:bg` their ids by hold time;
 * a claim is one GETDEL, which exactly one replica wins).
 */
import type Redis from 'ioredis';
import { isJsonObject } from '../../runtime/json';
import type { CircuitBreaker } from './circuit-breaker';
import { CircuitOpenError, StoreOperationError } from './errors';
import type { PendingResponse, PendingResponses, StoreErrorListener } from './types';

/** A stored entry read back; anything without an id, a client and a ticket is no entry. */
function entryOf(text: string | null): PendingResponse | undefined {
  if (text === null) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    if (!isJsonObject(value) || typeof value.id !== 'string' || typeof value.clientId !== 'string')
      return undefined;
    return isJsonObject(value.ticket) ? (value as unknown as PendingResponse) : undefined;
  } catch {
    return undefined;
  }
}

export class MemoryPendingResponses implements PendingResponses {
  private readonly entries = new Map<string, PendingResponse>();

  async hold(entry: PendingResponse): Promise<void> {
    this.entries.set(entry.id, entry);
  }

  async list(limit: number): Promise<PendingResponse[]> {
    return [...this.entries.values()].sort((x, y) => x.heldAt - y.heldAt).slice(0, limit);
  }

  async claim(id: string): Promise<PendingResponse | undefined> {
    const entry = this.entries.get(id);
    this.entries.delete(id);
    return entry;
  }
}

export class RedisPendingResponses implements PendingResponses {
  constructor(
    private readonly redis: Redis,
    /** Key prefix of the stage, `oai:<stage>:`. */
    private readonly prefix: string,
  ) {}

  async hold(entry: PendingResponse): Promise<void> {
    await this.run('pending_hold', () =>
      this.redis
        .multi()
        .set(this.key(entry.id), JSON.stringify(entry))
        .zadd(this.index, entry.heldAt, entry.id)
        .exec(),
    );
  }

  async list(limit: number): Promise<PendingResponse[]> {
    const ids = await this.run('pending_list', () => this.redis.zrange(this.index, 0, limit - 1));
    if (ids.length === 0) return [];
    const texts = await this.run('pending_list', () => this.redis.mget(ids.map((id) => this.key(id))));
    const entries: PendingResponse[] = [];
    const gone: string[] = [];
    texts.forEach((text, i) => {
      const entry = entryOf(text);
      if (entry) entries.push(entry);
      else gone.push(ids[i]);
    });
    // Ids whose entry was claimed (or is unreadable) leave the index.
    if (gone.length > 0) await this.run('pending_list', () => this.redis.zrem(this.index, ...gone));
    return entries;
  }

  async claim(id: string): Promise<PendingResponse | undefined> {
    const text = await this.run('pending_claim', () => this.redis.getdel(this.key(id)));
    if (text !== null) await this.run('pending_claim', () => this.redis.zrem(this.index, id)).catch(() => 0);
    return entryOf(text);
  }

  private get index(): string {
    return `${this.prefix}bg`;
  }

  private key(id: string): string {
    return `${this.prefix}bg:${id}`;
  }

  private async run<T>(operation: string, command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch (err) {
      throw new StoreOperationError(operation, err);
    }
  }
}

/** Redis pending responses behind the admissions' breaker, as `GuardedObjectOwners`. */
export class GuardedPendingResponses implements PendingResponses {
  constructor(
    private readonly primary: PendingResponses,
    private readonly breaker: CircuitBreaker,
    private readonly onError?: StoreErrorListener,
  ) {}

  hold(entry: PendingResponse): Promise<void> {
    return this.guard('pending_hold', () => this.primary.hold(entry));
  }

  list(limit: number): Promise<PendingResponse[]> {
    return this.guard('pending_list', () => this.primary.list(limit));
  }

  claim(id: string): Promise<PendingResponse | undefined> {
    return this.guard('pending_claim', () => this.primary.claim(id));
  }

  private async guard<T>(operation: string, command: () => Promise<T>): Promise<T> {
    if (!this.breaker.allow()) {
      const err = new CircuitOpenError(operation);
      this.onError?.(operation, err);
      throw err;
    }
    try {
      const value = await command();
      this.breaker.success();
      return value;
    } catch (err) {
      this.breaker.failure();
      this.onError?.(operation, err);
      throw err;
    }
  }
}
