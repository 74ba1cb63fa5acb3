/**
 * The gateway's one options type and its defaults, in one table. The entry point fills it from the
 * environment (`settings.ts`), the demo and the tests fill it directly; `Gateway.create` resolves the
 * defaults here and nowhere else.
 */
import type { Clock } from '../../runtime/clock';
import type { GatewayConfig } from '../../runtime/gateway-config';
import type { CreateStoreOptions, SpendLedger } from '../store';
import type { GatewayStore } from '../store/types';
import type { UpstreamKeyProvider } from '../upstream/key';

/** Where JSON logs and EMF lines go. */
export interface LineSink {
  write(line: string): void;
  flushSync?(): void;
}

/** The settings that have a default (table below). */
export interface TunableOptions {
  /** Pino level of the JSON logs. */
  readonly logLevel: string;
  /** Interval of SSE keep-alive comments while a stream waits for upstream, ms. */
  readonly sseKeepAliveMs: number;
  /** How often aggregated metrics are written, ms. */
  readonly metricsFlushMs: number;
  /** Node `keepAliveTimeout`, above the ALB idle timeout; `headersTimeout` is 1 s above it, ms. */
  readonly keepAliveTimeoutMs: number;
  /**
   * Most time a request may take to arrive, headers and body, ms: a body trickled a byte at a time
   * gets 408. It does not bound the answer: a stream may run as long as upstream takes.
   */
  readonly requestTimeoutMs: number;
  /** Most time a stream waits for a caller that stopped reading before it drops it (and upstream), ms. */
  readonly writeStallTimeoutMs: number;
  /** How long in-flight requests and streams may finish after SIGTERM, ms. */
  readonly shutdownTimeoutMs: number;
  /** First upstream retry backoff step, ms. */
  readonly retryBaseDelayMs: number;
  /** How often an unreadable upstream key is tried again, ms. */
  readonly keyRetryMs: number;
  /**
   * How long readiness waits at start for the first Redis connection, ms, so that the first requests
   * do not go to the fallback. Readiness turns true after this bound even if Redis is still down.
   */
  readonly redisConnectWaitMs: number;
  /**
   * How often each replica asks upstream for the pending background responses, ms (only while
   * `limits.backgroundResponses` is on).
   */
  readonly backgroundPollMs: number;
  /**
   * How often the pending batches (their reservations held) are read from upstream to settle those
   * that ended, ms. Every replica polls; the store's claim makes exactly one settle each batch.
   */
  readonly batchPollMs: number;
  /**
   * Mean event-loop delay over a sample above which `/v1` requests are shed: answered 503 with
   * `Retry-After` before any store or upstream work, ms. 0 turns the check off.
   */
  readonly shedEventLoopDelayMs: number;
  /**
   * Event-loop utilization over a sample (0 to 1) above which `/v1` requests are shed. 0 turns the
   * check off: a loop can be fully used and still answer in time; the delay is what callers feel.
   */
  readonly shedEventLoopUtilization: number;
  /** How often the event loop's delay and utilization are sampled for shedding, ms. */
  readonly shedSampleIntervalMs: number;
  /** The `Retry-After` of a shed request, seconds. */
  readonly shedRetryAfterSeconds: number;
  /**
   * How often the spend increments are written to the ledger, ms: a task that dies loses at most
   * what it admitted in this interval.
   */
  readonly ledgerFlushMs: number;
  /** The most replicas the stage runs (its autoscaling maximum): the `shared` fallback enforces 1/N each. */
  readonly replicas: number;
}

export const GATEWAY_DEFAULTS: TunableOptions = {
  logLevel: 'info',
  sseKeepAliveMs: 15_000,
  metricsFlushMs: 60_000,
  keepAliveTimeoutMs: 125_000,
  requestTimeoutMs: 30_000,
  writeStallTimeoutMs: 30_000,
  shutdownTimeoutMs: 25_000,
  retryBaseDelayMs: 250,
  keyRetryMs: 5_000,
  redisConnectWaitMs: 2_000,
  backgroundPollMs: 5_000,
  batchPollMs: 60_000,
  shedEventLoopDelayMs: 100,
  shedEventLoopUtilization: 0,
  shedSampleIntervalMs: 500,
  shedRetryAfterSeconds: 1,
  ledgerFlushMs: 1_000,
  replicas: 1,
};

export interface GatewayOptions extends Partial<TunableOptions> {
  /** The config at start; `Gateway.reload` swaps it while the gateway runs. */
  readonly config: GatewayConfig;
  /** The version `config` was loaded as, for the log. @default the first 12 hex of the SHA-256 of its JSON */
  readonly configVersion?: string;
  /** Where `config` came from, for the log (a path, `GATEWAY_CONFIG_JSON`, `appconfig`). @default 'options' */
  readonly configSource?: string;
  /** Upstream base URL including `/v1`. */
  readonly openaiBaseUrl: string;
  readonly upstreamKey: UpstreamKeyProvider;
  /** The wall clock of budget months and metric timestamps. @default systemClock */
  readonly clock?: Clock;
  /** A ready store. @default createStore({ config, redisUrl, redisAuthToken, clock }) */
  readonly store?: GatewayStore;
  /** @default none: the in-memory store */
  readonly redisUrl?: string;
  /** @default none */
  readonly redisAuthToken?: string;
  /**
   * DynamoDB table of the durable spend ledger (with Redis only). The endpoint follows the AWS SDK's
   * settings (`AWS_REGION`, `AWS_ENDPOINT_URL_DYNAMODB` for a local server).
   * @default none: no ledger
   */
  readonly spendLedgerTable?: string;
  /** A ready ledger (tests), in place of one on `spendLedgerTable`. @default none */
  readonly ledger?: SpendLedger;
  /** Circuit breaker around Redis. @default the store's (3 failures, 1000 ms) */
  readonly circuit?: CreateStoreOptions['circuit'];
  /** @default a buffered stdout writer */
  readonly sink?: LineSink;
}

export type ResolvedGatewayOptions = GatewayOptions & TunableOptions;

/** The options with every default filled in; an option set to undefined takes its default. */
export function resolveGatewayOptions(options: GatewayOptions): ResolvedGatewayOptions {
  const resolved: Record<string, unknown> = { ...options };
  for (const [name, value] of Object.entries(GATEWAY_DEFAULTS)) resolved[name] ??= value;
  return resolved as unknown as ResolvedGatewayOptions;
}
