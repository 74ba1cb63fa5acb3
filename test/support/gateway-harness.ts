/**
 * Runs the gateway in process for tests: a fake OpenAI upstream, a store (in-memory unless a Redis URL is
 * given), the app on 127.0.0.1, and `openai` SDK clients for the configured callers. Logs and EMF lines
 * are captured in `lines` so tests can assert on them (and that no secret or prompt appears).
 */
import OpenAI from 'openai';
import { createHash } from 'node:crypto';
import { API_FAMILIES, parseGatewayConfig, type GatewayConfig } from '../../runtime/gateway-config';
import { Gateway, type GatewayOptions } from '../../service/main/gateway';
import type { GatewayStore } from '../../service/store/types';
import { staticKey, type UpstreamKeyProvider } from '../../service/upstream/key';
import { flowingClock } from './clock';
import { eventually } from './eventually';
import { FakeOpenAI } from './fake-openai';

export const KEYS = {
  app: 'sk-gw-test-app-key-0000000000000000000000000',
  other: 'sk-gw-test-other-key-111111111111111111111111',
  limited: 'sk-gw-test-limited-key-22222222222222222222',
} as const;

export const UPSTREAM_KEY = 'sk-upstream-secret-do-not-log-9999';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

/** A valid config document; `patch` deep-merges over it (arrays replaced). */
export function testConfigDocument(patch: Record<string, unknown> = {}): Record<string, unknown> {
  const base: Record<string, unknown> = {
    stage: 'test',
    clients: [
      {
        id: 'app',
        keySha256: sha(KEYS.app),
        rpm: 1000,
        tpm: 1_000_000,
        monthlyBudgetUsd: 100,
        apiFamilies: [...API_FAMILIES],
      },
      {
        id: 'other',
        keySha256: sha(KEYS.other),
        rpm: 1000,
        tpm: 1_000_000,
        monthlyBudgetUsd: 100,
        apiFamilies: [...API_FAMILIES],
      },
      {
        id: 'limited',
        keySha256: sha(KEYS.limited),
        rpm: 1000,
        tpm: 1_000_000,
        monthlyBudgetUsd: 100,
        // The default families: no files, batches, audio, images or traces.
        models: ['fast'],
      },
    ],
    models: {
      'gpt-4o-mini': { inputUsdPer1M: 0.15, outputUsdPer1M: 0.6 },
      'gpt-4o': { inputUsdPer1M: 2.5, outputUsdPer1M: 10 },
      'text-embedding-3-small': { inputUsdPer1M: 0.02, outputUsdPer1M: 0 },
    },
    aliases: { fast: 'gpt-4o-mini', embed: 'text-embedding-3-small' },
    limits: { maxTokens: 1000, defaultMaxTokens: 100, maxN: 2, maxStopSequences: 2, maxBodyBytes: 4096 },
    budget: { monthlyUsd: 1000, notifyAtPercent: 80 },
    cache: { ttlSeconds: 60, version: '1' },
    upstream: {
      timeoutMs: 2000,
      maxRetries: 2,
      maxRetryAfterSeconds: 2,
      organization: 'org-test',
      project: 'proj-test',
    },
    store: { fallback: 'shared', commandTimeoutMs: 50 },
  };
  return merge(base, patch);
}

function merge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const prev = out[k];
    out[k] =
      v &&
      typeof v === 'object' &&
      !Array.isArray(v) &&
      prev &&
      typeof prev === 'object' &&
      !Array.isArray(prev)
        ? merge(prev as Record<string, unknown>, v as Record<string, unknown>)
        : v;
  }
  return out;
}

export interface HarnessOptions {
  /** Deep-merged over the test config document. */
  readonly config?: Record<string, unknown>;
  /** Use this store instead of a fresh MemoryStore. */
  readonly store?: GatewayStore;
  /** Use a Redis-backed store at this URL. */
  readonly redisUrl?: string;
  /** AUTH token for that Redis. */
  readonly redisAuthToken?: string;
  /** Share a running fake upstream. */
  readonly fake?: FakeOpenAI;
  readonly upstreamKey?: UpstreamKeyProvider;
  readonly gateway?: Partial<GatewayOptions>;
  /**
   * Send nothing until the gateway reports ready, as the load balancer does: with Redis, the first
   * requests of a loaded machine would otherwise race the first connection and go to the fallback.
   * @default true with `redisUrl`, false without
   */
  readonly awaitReady?: boolean;
}

/**
 * Store settings for tests whose Redis stays healthy and whose bounds are Redis's exact ones: a
 * command timeout no loaded machine reaches keeps every admission on Redis (a timed-out one would be
 * the fallback's, whose bound is looser than the budget).
 */
export const HEALTHY_REDIS_STORE = { fallback: 'shared', commandTimeoutMs: 1000 } as const;

/** Longest wait for readiness: the gateway's own wait for Redis (2 s by default) with room to spare. */
const READY_WAIT_MS = 10_000;

export class GatewayHarness {
  readonly lines: string[] = [];
  private ownsFake = false;

  private constructor(
    readonly gateway: Gateway,
    readonly fake: FakeOpenAI,
    readonly config: GatewayConfig,
    readonly url: string,
    readonly store: GatewayStore,
  ) {}

  static async start(options: HarnessOptions = {}): Promise<GatewayHarness> {
    const fake = options.fake ?? new FakeOpenAI();
    const ownsFake = !options.fake;
    if (ownsFake) await fake.start();
    const config = parseGatewayConfig(testConfigDocument(options.config));
    const lines: string[] = [];
    const gateway = await Gateway.create({
      config,
      openaiBaseUrl: fake.url,
      upstreamKey: options.upstreamKey ?? staticKey(UPSTREAM_KEY),
      store: options.store,
      redisUrl: options.redisUrl,
      redisAuthToken: options.redisAuthToken,
      // Budget months from a mid-month clock, so no test depends on the day it runs.
      clock: flowingClock,
      circuit: { cooldownMs: 200 },
      sink: { write: (line) => void lines.push(line.trimEnd()) },
      logLevel: 'info',
      retryBaseDelayMs: 1,
      sseKeepAliveMs: 15_000,
      shutdownTimeoutMs: 2_000,
      // Off: a shared CI machine can hold any test's event loop past 100 ms, and a shed answer is not what
      // those tests check. Shedding has its own thresholds in overload.test.ts.
      shedEventLoopDelayMs: 0,
      ...options.gateway,
    });
    const url = await gateway.listen(0, '127.0.0.1');
    if (options.awaitReady ?? options.redisUrl !== undefined)
      await eventually(() => gateway.ready, READY_WAIT_MS, 10);
    const h = new GatewayHarness(gateway, fake, config, url, gateway.store);
    h.ownsFake = ownsFake;
    (h as { lines: string[] }).lines = lines;
    return h;
  }

  /** An SDK client for a caller key; SDK retries off so status codes are seen as they are. */
  client(key: string = KEYS.app, options: ConstructorParameters<typeof OpenAI>[0] = {}): OpenAI {
    return new OpenAI({ baseURL: this.url, apiKey: key, maxRetries: 0, ...options });
  }

  /** A raw POST, for what the SDK would not send (bad JSON, oversize bodies, headers). */
  post(path: string, body: string, headers: Record<string, string> = {}): Promise<Response> {
    return fetch(`${this.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEYS.app}`, 'content-type': 'application/json', ...headers },
      body,
    });
  }

  /** Parsed JSON log lines (EMF lines included). */
  logs(): Array<Record<string, unknown>> {
    return this.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  }

  async stop(): Promise<void> {
    await this.gateway.shutdown();
    if (this.ownsFake) await this.fake.stop();
  }
}

export const chatBody = (content = 'Say hello', extra: Record<string, unknown> = {}) => ({
  model: 'gpt-4o-mini',
  messages: [{ role: 'user' as const, content }],
  ...extra,
});
