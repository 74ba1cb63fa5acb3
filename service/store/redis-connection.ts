import Redis, { type RedisOptions } from 'ioredis';

export interface RedisConnectionOptions {
  /** `redis://` or `rediss://` (TLS, as ElastiCache in-transit encryption requires) URL. */
  readonly url: string;
  /** AUTH token; overrides a password in the URL. @default the URL's password, if any */
  readonly authToken?: string;
  /** Time a command may take before it fails, ms (also sets the connect timeout). */
  readonly commandTimeoutMs: number;
  /**
   * The client's own wall-clock command timeout, when the caller times commands itself (the store's
   * `CommandDeadline`, which leaves out the gateway's event-loop stalls). @default commandTimeoutMs
   */
  readonly backstopTimeoutMs?: number;
  /** Told of connection errors (never the token). */
  readonly onError?: (error: Error) => void;
}

/** Longest wait between reconnection attempts, ms. */
const MAX_RECONNECT_DELAY_MS = 2_000;

/**
 * Replies of a node that cannot take writes on this connection: a primary demoted to a replica
 * (`READONLY`), a node still loading its dataset (`LOADING`), a replica cut off from its primary
 * (`MASTERDOWN`). After a failover the old socket stays open and keeps answering these; only a new
 * connection reaches the new primary behind the re-pointed endpoint.
 */
const RECONNECT_REPLY_PREFIXES = ['READONLY', 'LOADING', 'MASTERDOWN'] as const;

/**
 * ioredis's `reconnectOnError`: 1 (reconnect; the failed command rejects) for a reply that says the node
 * cannot serve writes, false otherwise. Never 2 (reconnect and resend the command): a resent admission
 * would reserve for a request that has already been answered from the fallback.
 */
export function reconnectOnReply(error: Error): false | 1 {
  return RECONNECT_REPLY_PREFIXES.some((prefix) => error.message.startsWith(prefix)) ? 1 : false;
}

/**
 * A Redis client tuned so that Redis trouble never holds a request: every command has a timeout;
 * while disconnected commands fail at once instead of queueing (`enableOfflineQueue: false`);
 * commands in flight when a connection drops fail instead of being replayed later (a replayed
 * admission would reserve for a request that has already been answered); a reply saying the node
 * cannot take writes (a failover) drops the connection so the next one reaches the new primary;
 * reconnection retries forever with capped, jittered exponential backoff. It starts connecting at once.
 */
export function connectRedis(options: RedisConnectionOptions): Redis {
  const tls = options.url.toLowerCase().startsWith('rediss://');
  const redisOptions: RedisOptions = {
    ...(tls ? { tls: {} } : {}),
    ...(options.authToken === undefined ? {} : { password: options.authToken }),
    commandTimeout: options.backstopTimeoutMs ?? options.commandTimeoutMs,
    connectTimeout: Math.max(1_000, options.commandTimeoutMs * 20),
    // How long close() lets a half-open socket linger before destroying it (ioredis default: 2 s).
    disconnectTimeout: 500,
    enableOfflineQueue: false,
    autoResendUnfulfilledCommands: false,
    maxRetriesPerRequest: 0,
    lazyConnect: false,
    // Commands issued in the same event-loop turn (admissions of concurrent requests, a settlement and
    // its cache write) go out in one socket write and come back in one read.
    enableAutoPipelining: true,
    reconnectOnError: reconnectOnReply,
    retryStrategy: (attempt) => {
      const backoff = Math.min(MAX_RECONNECT_DELAY_MS, 50 * 2 ** Math.min(attempt, 10));
      return Math.round(backoff / 2 + Math.random() * (backoff / 2));
    },
  };
  const redis = new Redis(options.url, redisOptions);
  // Without a listener ioredis prints every connection error; the store reports them instead.
  redis.on('error', (error: Error) => options.onError?.(error));
  return redis;
}
