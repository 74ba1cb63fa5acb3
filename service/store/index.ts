/**
 * The gateway's shared state. `createStore` picks the backend: Redis/Valkey when a URL is given
 * (shared by every replica, guarded by timeouts, a circuit breaker and the configured fallback),
 * otherwise an in-process `MemoryStore`.
 */
import type { Clock } from '../../runtime/clock';
import type { GatewayConfig } from '../../runtime/gateway-config';
import { CircuitBreaker, type CircuitBreakerOptions, type CircuitState } from './circuit-breaker';
import { backstopTimeoutMs, CommandDeadline, LoopStallMeter } from './command-deadline';
import { StoreOperationError } from './errors';
import { MemoryStore } from './memory-store';
import { connectRedis } from './redis-connection';
import { RedisStore } from './redis-store';
import { ResilientStore } from './resilient-store';
import type { SpendLedger } from './spend-ledger';
import type { GatewayStore, StoreErrorListener } from './types';

export interface CreateStoreOptions {
  /** Validated gateway config: uses stage (key prefix), store.fallback, store.commandTimeoutMs. */
  readonly config: GatewayConfig;
  /** redis:// or rediss:// URL; unset → MemoryStore. */
  readonly redisUrl?: string;
  /** AUTH token (read from Secrets Manager by the caller). */
  readonly redisAuthToken?: string;
  /**
   * Told of every failed or timed-out store operation (`StoreOperationError`; operation `connection`
   * for connection errors) and of every admission answered by the fallback because the circuit is
   * open (`CircuitOpenError`), for metrics and logs. Fallback decisions also carry `degraded: true`.
   */
  readonly onError?: StoreErrorListener;
  /** Told when the circuit around Redis opens, half-opens or closes (for logs). */
  readonly onCircuitStateChange?: (state: CircuitState) => void;
  /**
   * Consecutive failures that open the circuit, how long it stays open before a probe, and (for
   * tests) the breaker's clock.
   * @default 3 failures, 1000 ms, systemClock
   */
  readonly circuit?: Omit<CircuitBreakerOptions, 'onStateChange'>;
  /**
   * The durable spend ledger (with Redis only): Redis counters are seeded from it and every change
   * to them is added to it. @default none
   */
  readonly ledger?: SpendLedger;
  /**
   * The most replicas the stage runs: the `shared` fallback enforces 1/N each.
   * @default 1
   */
  readonly replicas?: number;
  /**
   * Clock for tests. With Redis it replaces the server's clock in the scripts.
   * @default systemClock (and Redis server time for rate limits)
   */
  readonly now?: Clock;
}

/** Builds the store the gateway runs with. It starts connecting at once and never throws afterwards. */
export function createStore(options: CreateStoreOptions): GatewayStore {
  const { config, redisUrl, now } = options;
  if (redisUrl === undefined || redisUrl === '') return new MemoryStore({ now });

  const onError = options.onError;
  const breaker = new CircuitBreaker({ ...options.circuit, onStateChange: options.onCircuitStateChange });
  const redis = connectRedis({
    url: redisUrl,
    authToken: options.redisAuthToken,
    commandTimeoutMs: config.store.commandTimeoutMs,
    backstopTimeoutMs: backstopTimeoutMs(config.store.commandTimeoutMs),
    onError: (error) => onError?.('connection', new StoreOperationError('connection', error)),
  });
  // A connection that comes back need not wait out the cooldown before the next probe.
  redis.on('ready', () => breaker.probeNow());
  return new ResilientStore({
    primary: new RedisStore({
      redis,
      stage: config.stage,
      now,
      connectWaitMs: config.store.commandTimeoutMs,
      ledger: options.ledger,
    }),
    breaker,
    cacheBreaker: new CircuitBreaker(options.circuit),
    fallback: config.store.fallback,
    deadline: new CommandDeadline({ timeoutMs: config.store.commandTimeoutMs, meter: new LoopStallMeter() }),
    replicas: options.replicas,
    ledger: options.ledger,
    onError,
    now,
  });
}

export { CircuitBreaker, type CircuitBreakerOptions, type CircuitState } from './circuit-breaker';
export { CircuitOpenError, StoreOperationError } from './errors';
export { MemoryStore, type MemoryStoreOptions } from './memory-store';
export { RedisStore, type RedisStoreOptions } from './redis-store';
export { ResilientStore, type ResilientStoreOptions } from './resilient-store';
export { SharedFallback, type SharedFallbackOptions } from './shared-fallback';
export {
  DynamoSpendLedger,
  LedgerError,
  type DynamoSpendLedgerOptions,
  type SpendLedger,
} from './spend-ledger';
export type * from './types';
