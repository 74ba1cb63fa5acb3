/**
 * Batches whose budget reservation is still held: each created through the gateway waits here until a
 * replica sees it reach a terminal status and settles it. In process (a single replica, tests) or in
 * Redis/Valkey (one hash, `oai:<stage>:batches`, shared by every replica, so another replica settles a
 * batch after a restart). `claim` is atomic: of any number of replicas claiming one batch, exactly one
 * gets it, so a batch is settled exactly once.
 */
import type Redis from 'ioredis';
import { isJsonObject } from '../../runtime/json';
import type { CircuitBreaker } from './circuit-breaker';
import { CircuitOpenError, StoreOperationError } from './errors';
import type { PendingBatch, PendingBatches, StoreErrorListener, Ticket } from './types';

/** A pending record read back; anything malformed is no record (its reservation then stays held). */
function pendingOf(text: string): PendingBatch | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isJsonObject(value) || typeof value.clientId !== 'string' || typeof value.model !== 'string')
    return undefined;
  if (!isJsonObject(value.ticket) || typeof value.ticket.month !== 'string') return undefined;
  return { clientId: value.clientId, model: value.model, ticket: value.ticket as unknown as Ticket };
}

export class MemoryPendingBatches implements PendingBatches {
  private readonly pending = new Map<string, PendingBatch>();

  async add(id: string, batch: PendingBatch): Promise<void> {
    this.pending.set(id, batch);
  }

  async ids(): Promise<readonly string[]> {
    return [...this.pending.keys()];
  }

  async get(id: string): Promise<PendingBatch | undefined> {
    return this.pending.get(id);
  }

  async claim(id: string): Promise<PendingBatch | undefined> {
    const batch = this.pending.get(id);
    this.pending.delete(id);
    return batch;
  }
}

export class RedisPendingBatches implements PendingBatches {
  private readonly key: string;

  constructor(
    private readonly redis: Redis,
    /** Key prefix of the stage, `oai:<stage>:`. */
    prefix: string,
  ) {
    this.key = `${prefix}batches`;
  }

  async add(id: string, batch: PendingBatch): Promise<void> {
    await this.run('batch_add', () => this.redis.hset(this.key, id, JSON.stringify(batch)));
  }

  async ids(): Promise<readonly string[]> {
    return this.run('batch_ids', () => this.redis.hkeys(this.key));
  }

  async get(id: string): Promise<PendingBatch | undefined> {
    const text = await this.run('batch_get', () => this.redis.hget(this.key, id));
    return text === null ? undefined : pendingOf(text);
  }

  /** HGET then HDEL: the record never changes once added, and only one HDEL removes it. */
  async claim(id: string): Promise<PendingBatch | undefined> {
    const text = await this.run('batch_get', () => this.redis.hget(this.key, id));
    if (text === null) return undefined;
    const removed = await this.run('batch_claim', () => this.redis.hdel(this.key, id));
    return removed === 1 ? pendingOf(text) : undefined;
  }

  private async run<T>(operation: string, command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch (err) {
      throw new StoreOperationError(operation, err);
    }
  }
}

/** Redis pending batches behind the admissions' breaker, as `GuardedObjectOwners` is. */
export class GuardedPendingBatches implements PendingBatches {
  constructor(
    private readonly primary: PendingBatches,
    private readonly breaker: CircuitBreaker,
    private readonly onError?: StoreErrorListener,
  ) {}

  add(id: string, batch: PendingBatch): Promise<void> {
    return this.guard('batch_add', () => this.primary.add(id, batch));
  }

  ids(): Promise<readonly string[]> {
    return this.guard('batch_ids', () => this.primary.ids());
  }

  get(id: string): Promise<PendingBatch | undefined> {
    return this.guard('batch_get', () => this.primary.get(id));
  }

  claim(id: string): Promise<PendingBatch | undefined> {
    return this.guard('batch_claim', () => this.primary.claim(id));
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
