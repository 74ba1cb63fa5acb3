/**
 * The gateway's shared state. `createStore` picks the backend: Redis/Valkey when a URL is given
 * (shared by every replica, guarded by timeouts, a circuit breaker and the configured fallback),
 * otherwise an in-process `MemoryStore`.
 */
import type { GatewayConfig } from '../../runtime/gateway-config';
import { MemoryStore } from './memory-store';
import type { GatewayStore, StoreErrorListener } from './types';

export interface CreateStoreOptions {
  /** Validated gateway config: uses stage (key prefix), store.fallback, store.commandTimeoutMs. */
  readonly config: GatewayConfig;
  /** redis:// or rediss:// URL; unset → MemoryStore. */
  readonly redisUrl?: string;
  /** AUTH token (read from Secrets Manager by the caller). */
  readonly redisAuthToken?: string;
  /** Told of every failed/timed-out store operation and of fallback decisions (for metrics/logs). */
  readonly onError?: StoreErrorListener;
  /** Clock for tests. @default Date.now */
  readonly now?: () => number;
}

export function createStore(options: CreateStoreOptions): GatewayStore {
  if (options.redisUrl === undefined || options.redisUrl === '') {
    return new MemoryStore({ now: options.now });
  }
  throw new Error('createStore: the Redis store is not committed yet');
}

export { MemoryStore, type MemoryStoreOptions } from './memory-store';
export type * from './types';
