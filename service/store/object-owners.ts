/**
 * The two backends of `ObjectOwners`: in process (a single replica, tests, the embedded default) and in
 * Redis/Valkey (one key per object, `oai:<stage>:own:<id>`, shared by every replica).
 */
import type Redis from 'ioredis';
import { systemClock, type Clock } from '../../runtime/clock';
import { isJsonObject } from '../../runtime/json';
import { GuardedCommands, type CircuitBreaker } from './circuit-breaker';
import type { CommandDeadline } from './command-deadline';
import { StoreOperationError } from './errors';
import { CONTEXT_WINDOW_TOKENS } from '../../runtime/gateway-config';
import type { ContextGrowth, ObjectOwner, ObjectOwners, StoreErrorListener } from './types';

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** An owner record read back: anything but a client id and optional counts is no owner at all. */
function ownerOf(value: unknown): ObjectOwner | undefined {
  if (!isJsonObject(value) || typeof value.clientId !== 'string') return undefined;
  const { contextTokens, revision } = value;
  return {
    clientId: value.clientId,
    ...(isCount(contextTokens) ? { contextTokens } : {}),
    ...(isCount(revision) && revision > 0 ? { revision } : {}),
  };
}

/** The record after `growth` (see `ObjectOwners.extend`); the Redis script does the same in Lua. */
export function grown(owner: ObjectOwner, growth: ContextGrowth): ObjectOwner {
  const revision = owner.revision ?? 0;
  if (owner.contextTokens === undefined) return { ...owner, revision: revision + 1 };
  const tokens =
    growth.exact !== undefined && growth.exact.revision === revision
      ? growth.exact.tokens
      : owner.contextTokens + growth.addedTokens;
  return {
    ...owner,
    contextTokens: Math.min(Math.max(0, Math.ceil(tokens)), CONTEXT_WINDOW_TOKENS),
    revision: revision + 1,
  };
}

/** The script `RedisStore` defines on its connection (`OWNER_EXTEND_SCRIPT`). */
export interface OwnerCommands {
  oaiOwnerExtend(key: string, ...args: (string | number)[]): Promise<number>;
}

export class MemoryObjectOwners implements ObjectOwners {
  private readonly owners = new Map<string, { owner: ObjectOwner; readonly expiresAt: number }>();

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

  async extend(id: string, growth: ContextGrowth): Promise<void> {
    const entry = this.owners.get(id);
    if (entry !== undefined) entry.owner = grown(entry.owner, growth);
  }
}

export class RedisObjectOwners implements ObjectOwners {
  constructor(
    /** A connection with `OWNER_EXTEND_SCRIPT` defined as `oaiOwnerExtend`. */
    private readonly redis: Redis & OwnerCommands,
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

  async extend(id: string, growth: ContextGrowth): Promise<void> {
    const { addedTokens, exact } = growth;
    await this.run('owner_extend', () =>
      this.redis.oaiOwnerExtend(
        this.key(id),
        Math.ceil(addedTokens),
        exact === undefined ? '' : exact.revision,
        exact === undefined ? 0 : Math.ceil(exact.tokens),
        CONTEXT_WINDOW_TOKENS,
      ),
    );
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
  private readonly guarded: GuardedCommands;

  constructor(
    private readonly primary: ObjectOwners,
    breaker: CircuitBreaker,
    onError?: StoreErrorListener,
    deadline?: CommandDeadline,
  ) {
    this.guarded = new GuardedCommands(breaker, onError, deadline);
  }

  record(id: string, owner: ObjectOwner, ttlSeconds: number): Promise<void> {
    return this.guarded.run('owner_record', () => this.primary.record(id, owner, ttlSeconds));
  }

  lookup(id: string): Promise<ObjectOwner | undefined> {
    return this.guarded.run('owner_lookup', () => this.primary.lookup(id));
  }

  forget(id: string): Promise<void> {
    return this.guarded.run('owner_forget', () => this.primary.forget(id));
  }

  extend(id: string, growth: ContextGrowth): Promise<void> {
    return this.guarded.run('owner_extend', () => this.primary.extend(id, growth));
  }
}
