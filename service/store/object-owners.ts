/**
 * The two backends of `ObjectOwners`: in process (a single replica, tests, the embedded default) and in
 * Redis/Valkey (one key per object, `oai:<stage>:own:<id>`, shared by every replica).
 */
import type Redis from 'ioredis';
import { systemClock, type Clock } from '../../runtime/clock';
import { isJsonObject } from '../../runtime/json';
import type { CircuitBreaker } from './circuit-breaker';
import { CircuitOpenError, StoreOperationError } from './errors';
import type { ObjectOwner, ObjectOwners, StoreErrorListener } from './types';

/** An owner record read back: anything but a client id and an optional count is no owner at all. */
function ownerOf(value: unknown): ObjectOwner | undefined {
  if (!isJsonObject(value) || typeof value.clientId !== 'string') return undefined;
  const tokens = value.contextTokens;
  return typeof tokens === 'number' && Number.isSafeInteger(tokens) && tokens >= 0
    ? { clientId: value.clientId, contextTokens: tokens }
    : { clientId: value.clientId };
}

export class MemoryObjectOwners implements ObjectOwners {
  private readonly owners = new Map<string, { owner: ObjectOwner; expiresAt: number }>();

  constructor(private readonly now: Clock = systemClock) {}

  async record(id: string, owner: ObjectOwner, ttlSeconds: number): Promise<void> {
    const expiresAt = ttlSeconds > 0 ? this.now() + ttlSeconds * 1000 : Number.POSITIVE_INFINITY;
    this.owners.set(id, { owner, expiresAt });
  }

  async lookup(id: string): Promise<ObjectOwner | undefined> {
    const entry = this.owners.get(id);
    if (entry === undefined) return undefined;
    if (entry.expiresAt > this.now()) return entry.owner;
    this.owners.delete(id);
    return undefined;
  }

  async forget(id: string): Promise<void> {
    this.owners.delete(id);
  }
}

export class RedisObjectOwners implements ObjectOwners {
  constructor(
    private readonly redis: Redis,
    /** Key prefix of the stage, `oai:<stage>:`. */
    private readonly prefix: string,
  ) {}

  async record(id: string, owner: ObjectOwner, ttlSeconds: number): Promise<void> {
    const key = this.key(id);
    const value = JSON.stringify(owner);
    await this.run('owner_record', () =>
      ttlSeconds > 0 ? this.redis.set(key, value, 'EX', ttlSeconds) : this.redis.set(key, value),
    );
  }

  async lookup(id: string): Promise<ObjectOwner | undefined> {
    const text = await this.run('owner_lookup', () => this.redis.get(this.key(id)));
    if (text === null) return undefined;
    try {
      return ownerOf(JSON.parse(text));
    } catch {
      return undefined;
    }
  }

  async forget(id: string): Promise<void> {
    await this.run('owner_forget', () => this.redis.del(this.key(id)));
  }

  private key(id: string): string {
    return `${this.prefix}own:${id}`;
  }

  private async run<T>(operation: string, command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch (err) {
      throw new StoreOperationError(operation, err);
    }
  }
}

/**
 * Redis ownership behind the admissions' breaker: while the circuit is open, ownership fails at once
 * (a 503 for the caller) instead of waiting out a command timeout per request. Failures are reported.
 */
export class GuardedObjectOwners implements ObjectOwners {
  constructor(
    private readonly primary: ObjectOwners,
    private readonly breaker: CircuitBreaker,
    private readonly onError?: StoreErrorListener,
  ) {}

  record(id: string, owner: ObjectOwner, ttlSeconds: number): Promise<void> {
    return this.guard('owner_record', () => this.primary.record(id, owner, ttlSeconds));
  }

  lookup(id: string): Promise<ObjectOwner | undefined> {
    return this.guard('owner_lookup', () => this.primary.lookup(id));
  }

  forget(id: string): Promise<void> {
    return this.guard('owner_forget', () => this.primary.forget(id));
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
