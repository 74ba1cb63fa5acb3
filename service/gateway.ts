/**
 * Composition root: builds the store, upstream client, metrics and Fastify app from options, listens,
 * and shuts down cleanly (readiness false, in-flight requests and streams finish up to the stop timeout,
 * metrics flushed, store closed). `index.ts` runs it from the environment; the demo and tests call it.
 */
import type { FastifyInstance } from 'fastify';
import type { AddressInfo } from 'node:net';
import type { Clock } from '../runtime/clock';
import type { GatewayConfig } from '../runtime/gateway-config';
import { buildApp } from './app';
import { LogSink } from './log-sink';
import { GatewayMetrics } from './metrics';
import { createStore, ResilientStore, type CreateStoreOptions } from './store';
import type { GatewayStore, StoreErrorListener } from './store/types';
import { UpstreamClient } from './upstream';
import type { UpstreamKeyProvider } from './upstream-key';

export interface GatewayOptions {
  readonly config: GatewayConfig;
  /** Upstream base URL including `/v1`. */
  readonly openaiBaseUrl: string;
  readonly upstreamKey: UpstreamKeyProvider;
  /** The wall clock of budget months and metric timestamps. @default systemClock */
  readonly clock?: Clock;
  /** A ready store. @default createStore({ config, redisUrl, redisAuthToken, clock }) */
  readonly store?: GatewayStore;
  /** @default none: the in-memory store */
  readonly redisUrl?: string;
  readonly redisAuthToken?: string;
  /** Circuit breaker around Redis. @default the store's (3 failures, 1000 ms) */
  readonly circuit?: CreateStoreOptions['circuit'];
  /** Where JSON logs and EMF lines go. @default a buffered stdout writer */
  readonly sink?: { write(line: string): void; flushSync?(): void };
  /** @default 'info' */
  readonly logLevel?: string;
  /** @default 15000 */
  readonly sseKeepAliveMs?: number;
  /** @default 60000 */
  readonly metricsFlushMs?: number;
  /** @default 125000 */
  readonly keepAliveTimeoutMs?: number;
  /** @default 25000 */
  readonly shutdownTimeoutMs?: number;
  /** First upstream retry backoff step, ms. @default 250 */
  readonly retryBaseDelayMs?: number;
  /** How often an unreadable upstream key is tried again, ms. @default 5000 */
  readonly keyRetryMs?: number;
  /**
   * How long readiness waits at start for the first Redis connection, ms, so that the first requests
   * do not go to the fallback. Readiness turns true after this bound even if Redis is still down.
   * @default 2000
   */
  readonly redisConnectWaitMs?: number;
}

/**
 * Counts `StoreErrors`: failed (or timed-out) store commands and requests answered by the fallback
 * while the circuit is open. Connection errors are not counted: while Redis is unreachable ioredis
 * reports every reconnection attempt, which says nothing about requests; the requests themselves are
 * counted, as failed admissions or circuit-open fallbacks.
 */
export function countStoreErrors(metrics: Pick<GatewayMetrics, 'storeError'>): StoreErrorListener {
  return (operation) => {
    if (operation !== 'connection') metrics.storeError();
  };
}

export class Gateway {
  private draining = false;
  private keyLoaded = false;
  /** The wait for the first Redis connection is over (connected, timed out, or no Redis at all). */
  private storeWaited = false;
  private readonly timers: NodeJS.Timeout[] = [];

  private constructor(
    readonly app: FastifyInstance,
    readonly store: GatewayStore,
    readonly upstream: UpstreamClient,
    readonly metrics: GatewayMetrics,
    private readonly options: GatewayOptions,
    private readonly sink: { write(line: string): void; flushSync?(): void },
  ) {}

  static async create(options: GatewayOptions): Promise<Gateway> {
    const { config } = options;
    const sink = options.sink ?? new LogSink();
    const metrics = new GatewayMetrics({
      stage: config.stage,
      write: (line) => sink.write(line),
      now: options.clock,
    });
    const store =
      options.store ??
      createStore({
        config,
        redisUrl: options.redisUrl,
        redisAuthToken: options.redisAuthToken,
        circuit: options.circuit,
        now: options.clock,
        onError: countStoreErrors(metrics),
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
    const ref: { gateway?: Gateway } = {};
    const app = await buildApp({
      config,
      store,
      upstream,
      metrics,
      isReady: () => ref.gateway?.ready ?? false,
      logSink: sink,
      logLevel: options.logLevel,
      sseKeepAliveMs: options.sseKeepAliveMs,
      keepAliveTimeoutMs: options.keepAliveTimeoutMs,
    });
    const gateway = new Gateway(app, store, upstream, metrics, options, sink);
    ref.gateway = gateway;
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
    const timeoutMs = this.options.shutdownTimeoutMs ?? 25_000;
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

  /** Writes the aggregated metrics now, with the stage's month-to-date spend. */
  async flushMetrics(): Promise<void> {
    const spend = await this.store.monthToDateSpendNanos().catch(() => undefined);
    this.metrics.flush(spend);
  }

  private startBackgroundWork(): void {
    const flush = setInterval(() => void this.flushMetrics(), this.options.metricsFlushMs ?? 60_000);
    flush.unref();
    this.timers.push(flush);
    void this.loadKey();
    void this.waitForStore();
  }

  /** Waits (bounded) for the first Redis connection; never fails, so readiness never hangs on Redis. */
  private async waitForStore(): Promise<void> {
    if (this.store instanceof ResilientStore) {
      const connected = await this.store
        .whenConnected(this.options.redisConnectWaitMs ?? 2_000)
        .catch(() => false);
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
      const retry = setTimeout(() => void this.loadKey(), this.options.keyRetryMs ?? 5_000);
      retry.unref();
      this.timers.push(retry);
    }
  }
}
