/**
 * Composition root: builds the store, upstream client, metrics and Fastify app from options, listens,
 * and shuts down cleanly (readiness false, in-flight requests and streams finish up to the stop timeout,
 * metrics flushed, store closed). `index.ts` runs it from the environment; the demo and tests call it.
 */
import type { FastifyInstance } from 'fastify';
import type { AddressInfo } from 'node:net';
import { buildApp } from '../http/app';
import type { BackgroundSettler } from '../pipeline/background';
import { batchPoller } from '../pipeline/batch-settlement';
import type { Poller } from '../pipeline/poller';
import { createPipelineShared, type PipelineShared } from '../pipeline/model-call';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createStore, DynamoSpendLedger, ResilientStore, type SpendLedger } from '../store';
import type { GatewayStore, StoreErrorListener } from '../store/types';
import { LogSink } from '../telemetry/log-sink';
import { GatewayMetrics } from '../telemetry/metrics';
import { UpstreamClient } from '../upstream/client';
import { systemClock } from '../../runtime/clock';
import {
  ConfigReloader,
  documentVersion,
  LiveConfig,
  type ConfigDocument,
  type ReloadOutcome,
} from './live-config';
import {
  resolveGatewayOptions,
  type GatewayOptions,
  type LineSink,
  type ResolvedGatewayOptions,
} from './options';

export type { GatewayOptions } from './options';

/**
 * Counts `StoreErrors`: failed (or timed-out) store commands and requests answered by the fallback
 * while the circuit is open. Connection errors are not counted: while Redis is unreachable ioredis
 * reports every reconnection attempt, which says nothing about requests; the requests themselves are
 * counted, as failed admissions or circuit-open fallbacks. Each admission the fallback answers is
 * reported once as `admit`, so those are also the `FallbackAdmissions`; ledger failures have their own.
 */
export function countStoreErrors(
  metrics: Pick<GatewayMetrics, 'storeError' | 'storeEvent'>,
  warnLedger: (operation: 'ledgerWrite' | 'ledgerRead', error: Error) => void = () => undefined,
): StoreErrorListener {
  return (operation, error) => {
    if (operation === 'ledgerWrite' || operation === 'ledgerRead') {
      warnLedger(operation, error instanceof Error ? error : new Error(String(error)));
      return metrics.storeEvent(operation === 'ledgerWrite' ? 'ledgerWriteErrors' : 'ledgerReadErrors');
    }
    if (operation === 'connection') return;
    metrics.storeError();
    if (operation === 'admit') metrics.storeEvent('fallbackAdmissions');
  };
}

/** How often a failing ledger is logged, at most, per operation: the metric counts every failure. */
const LEDGER_WARNING_INTERVAL_MS = 60_000;

/**
 * A warn line per ledger operation at most once a minute, with how many failures it stands for and
 * the error's name and message (DynamoDB's reason, never an item), so on-call sees why, not just how many.
 */
export function ledgerWarnings(
  warn: (fields: Record<string, unknown>, message: string) => void,
  now: () => number = () => performance.now(),
): (operation: 'ledgerWrite' | 'ledgerRead', error: Error) => void {
  const last = new Map<string, { at: number; failures: number }>();
  return (operation, error) => {
    const entry = last.get(operation);
    if (entry !== undefined && now() - entry.at < LEDGER_WARNING_INTERVAL_MS) {
      entry.failures++;
      return;
    }
    warn({ operation, failures: (entry?.failures ?? 0) + 1, err: error.message }, 'spend ledger failing');
    last.set(operation, { at: now(), failures: 0 });
  };
}

/** The parts a running gateway is made of. */
interface GatewayParts {
  readonly app: FastifyInstance;
  readonly store: GatewayStore;
  readonly upstream: UpstreamClient;
  readonly metrics: GatewayMetrics;
  readonly sink: LineSink;
  readonly background: BackgroundSettler;
  readonly batches: Poller;
  readonly live: LiveConfig;
}

export class Gateway {
  private draining = false;
  private keyLoaded = false;
  /** The wait for the first Redis connection is over (connected, timed out, or no Redis at all). */
  private storeWaited = false;
  private readonly timers: NodeJS.Timeout[] = [];
  readonly app: FastifyInstance;
  readonly store: GatewayStore;
  readonly upstream: UpstreamClient;
  readonly metrics: GatewayMetrics;
  /** Settles background responses; polls upstream while the stage allows them. */
  readonly background: BackgroundSettler;
  /** Settles the batches that ended; tests call `pollNow()`. */
  readonly batches: Poller;
  /** The config running now; `reload` swaps it. */
  readonly live: LiveConfig;
  private readonly reloader: ConfigReloader;
  private readonly sink: LineSink;

  private constructor(
    parts: GatewayParts,
    private readonly options: ResolvedGatewayOptions,
  ) {
    ({
      app: this.app,
      store: this.store,
      upstream: this.upstream,
      metrics: this.metrics,
      sink: this.sink,
      background: this.background,
      batches: this.batches,
      live: this.live,
    } = parts);
    this.reloader = new ConfigReloader({ live: this.live, metrics: this.metrics, log: this.app.log });
  }

  static async create(given: GatewayOptions): Promise<Gateway> {
    const options = resolveGatewayOptions(given);
    const sink = options.sink ?? new LogSink();
    const metrics = new GatewayMetrics({
      stage: options.config.stage,
      write: (line) => sink.write(line),
      now: options.clock,
    });
    const ref: { gateway?: Gateway } = {};
    const warnLedger = ledgerWarnings((fields, message) => ref.gateway?.app.log.warn(fields, message));
    const shared = pipelineShared(options, metrics, warnLedger);
    const version = options.configVersion ?? documentVersion({ text: JSON.stringify(options.config) });
    const live = new LiveConfig(shared, options.config, version, options.clock ?? systemClock);
    const app = await buildApp({
      snapshot: () => live.current,
      metrics,
      isReady: () => ref.gateway?.ready ?? false,
      logSink: sink,
      logLevel: options.logLevel,
      keepAliveTimeoutMs: options.keepAliveTimeoutMs,
      requestTimeoutMs: options.requestTimeoutMs,
      writeStallTimeoutMs: options.writeStallTimeoutMs,
      shedding: {
        maxEventLoopDelayMs: options.shedEventLoopDelayMs,
        maxEventLoopUtilization: options.shedEventLoopUtilization,
        sampleIntervalMs: options.shedSampleIntervalMs,
        retryAfterSeconds: options.shedRetryAfterSeconds,
      },
    });
    const gateway = new Gateway(
      {
        app,
        store: shared.store,
        upstream: shared.upstream,
        metrics,
        sink,
        background: shared.background,
        batches: batchPoller(() => live.current.pipeline),
        live,
      },
      options,
    );
    ref.gateway = gateway;
    app.log.info(
      { source: options.configSource ?? 'options', version, clients: options.config.clients.length },
      'config loaded',
    );
    gateway.startBackgroundWork();
    return gateway;
  }

  /**
   * Ready to take traffic: the upstream key has been read, the first Redis connection is up (or the
   * wait for it is over), and the process is not draining.
   */
  get ready(): boolean {
    return this.keyLoaded && this.storeWaited && !this.draining;
  }

  /** Listens and returns the base URL (`http://host:port/v1`). */
  async listen(port: number, host: string): Promise<string> {
    await this.app.listen({ port, host });
    const address = this.app.server.address() as AddressInfo;
    const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return `http://${shownHost}:${address.port}/v1`;
  }

  /** Drains and stops. In-flight requests and streams get up to `shutdownTimeoutMs` to finish. */
  async shutdown(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    for (const t of this.timers) clearInterval(t);
    await this.background.stop();
    await this.batches.stop();
    const timeoutMs = this.options.shutdownTimeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'timeout'>(
      (resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)),
    );
    // close() drops the connections idle now; a keep-alive connection whose request (or stream) ends
    // later would otherwise linger until its keep-alive timeout, so keep closing idle ones.
    const sweep = setInterval(() => this.app.server.closeIdleConnections(), 50);
    const outcome = await Promise.race([this.app.close().then(() => 'closed' as const), deadline]);
    clearInterval(sweep);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      this.app.log.warn({ timeoutMs }, 'shutdown timeout reached; closing the remaining connections');
      this.app.server.closeAllConnections();
    }
    await this.flushMetrics();
    await this.store.close();
    await this.upstream.close().catch(() => undefined);
    this.app.log.info('gateway stopped');
    this.sink.flushSync?.();
  }

  /**
   * Applies a new config document from any source (validated as at start), or refuses it naming the
   * field at fault and keeps the running one. Requests in flight finish on the config they began with.
   */
  reload(document: ConfigDocument): ReloadOutcome {
    return this.reloader.apply(document);
  }

  /** A config source could not be read: counted and logged; the running config stays. */
  configSourceFailed(source: string, err: unknown): void {
    this.reloader.sourceFailed(source, err);
  }

  /** Writes the aggregated metrics now, with the stage's month-to-date spend. */
  async flushMetrics(): Promise<void> {
    const spend = await this.store.monthToDateSpendNanos().catch(() => undefined);
    this.metrics.flush(spend);
  }

  private startBackgroundWork(): void {
    const flush = setInterval(() => void this.flushMetrics(), this.options.metricsFlushMs);
    flush.unref();
    this.timers.push(flush);
    this.batches.start(this.options.batchPollMs);
    void this.loadKey();
    void this.waitForStore();
    if (this.options.config.limits.backgroundResponses) this.background.start(this.options.backgroundPollMs);
  }

  /** Waits (bounded) for the first Redis connection; never fails, so readiness never hangs on Redis. */
  private async waitForStore(): Promise<void> {
    if (this.store instanceof ResilientStore) {
      const connected = await this.store.whenConnected(this.options.redisConnectWaitMs).catch(() => false);
      if (!connected) this.app.log.warn('redis not connected at start; requests use the store fallback');
    }
    this.storeWaited = true;
  }

  private async loadKey(): Promise<void> {
    try {
      await this.options.upstreamKey.get();
      this.keyLoaded = true;
    } catch (err) {
      // The message names the secret, never its value. Not ready until a read succeeds.
      this.app.log.error(
        { err: { name: (err as Error).name } },
        `upstream key unavailable: ${(err as Error).message}`,
      );
      if (this.draining) return;
      const retry = setTimeout(() => void this.loadKey(), this.options.keyRetryMs);
      retry.unref();
      this.timers.push(retry);
    }
  }
}

/** The ledger given, or one on the configured DynamoDB table (Redis stores only: alone, a process keeps its own). */
function spendLedger(options: ResolvedGatewayOptions, onError: StoreErrorListener): SpendLedger | undefined {
  if (options.ledger !== undefined) return options.ledger;
  if (options.spendLedgerTable === undefined || options.redisUrl === undefined) return undefined;
  return new DynamoSpendLedger({
    client: new DynamoDBClient({}),
    table: options.spendLedgerTable,
    flushMs: options.ledgerFlushMs,
    onError,
  });
}

/** The store and upstream client every config the gateway runs shares (read once, at start). */
function pipelineShared(
  options: ResolvedGatewayOptions,
  metrics: GatewayMetrics,
  warnLedger: Parameters<typeof countStoreErrors>[1],
): PipelineShared {
  const { config } = options;
  const onError = countStoreErrors(metrics, warnLedger);
  const store =
    options.store ??
    createStore({
      config,
      redisUrl: options.redisUrl,
      redisAuthToken: options.redisAuthToken,
      circuit: options.circuit,
      now: options.clock,
      onError,
      replicas: options.replicas,
      ledger: spendLedger(options, onError),
    });
  const upstream = new UpstreamClient({
    baseUrl: options.openaiBaseUrl,
    key: options.upstreamKey,
    organization: config.upstream.organization,
    project: config.upstream.project,
    timeoutMs: config.upstream.timeoutMs,
    maxRetries: config.upstream.maxRetries,
    maxRetryAfterSeconds: config.upstream.maxRetryAfterSeconds,
    retryBaseDelayMs: options.retryBaseDelayMs,
  });
  return createPipelineShared({ store, upstream, sseKeepAliveMs: options.sseKeepAliveMs });
}
