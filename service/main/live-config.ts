/**
 * The gateway's config, swappable while it runs. `LiveConfig` holds the validated document and what is
 * built from it (the authenticator, the pipeline's policy and limits) as one snapshot, replaced in one
 * assignment; a request takes the snapshot once at its arrival and keeps it to its end, so a swap never
 * changes or drops a request in flight. The store, the upstream client, the flights and the slots are
 * shared by every snapshot: limits, budgets and the cache live in the store keyed by client id, so they
 * survive a change; a client removed from the document is refused on its next request.
 *
 * `ConfigReloader` is the one path a new document takes, from any source (file, SIGHUP, AppConfig):
 * parsed and validated as at start, applied, logged (`config loaded` with its version and the client
 * ids added, removed and changed, never a hash) and counted; an invalid one is refused with a warn line
 * naming the field at fault, counted, and the running config stays.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { Clock } from '../../runtime/clock';
import {
  GatewayConfigError,
  parseGatewayConfig,
  type ClientConfig,
  type GatewayConfig,
} from '../../runtime/gateway-config';
import type { ConfigSnapshot } from '../http/app';
import { createAuthenticator, sha256Hex } from '../pipeline/authenticate';
import { pipelineForConfig, type PipelineShared } from '../pipeline/model-call';
import type { GatewayMetrics } from '../telemetry/metrics';

/**
 * Fields read once at start (the metric and Redis key prefix, the store's client, the upstream client,
 * Fastify's body limits, the background poller): a document that changes one is refused, naming it.
 */
export const RESTART_ONLY_FIELDS = [
  'stage',
  'store',
  'upstream',
  'limits.maxBodyBytes',
  'limits.maxFormBytes',
  'limits.backgroundResponses',
] as const;

/** One config as the requests see it, with the version it was loaded as. */
export interface LiveSnapshot extends ConfigSnapshot {
  readonly config: GatewayConfig;
  /** AppConfig's version label, or the first 12 hex characters of the SHA-256 of the document. */
  readonly version: string;
}

/** The client ids a swap added, removed and changed (any field, keys included). */
export interface ClientChanges {
  readonly added: readonly string[];
  readonly removed: readonly string[];
  readonly changed: readonly string[];
}

export class LiveConfig {
  private snapshot: LiveSnapshot;

  constructor(
    private readonly shared: PipelineShared,
    config: GatewayConfig,
    version: string,
    /** The clock keys expire on. */
    private readonly clock: Clock,
  ) {
    this.snapshot = this.build(config, version);
  }

  /** The config running now; take it once per request. */
  get current(): LiveSnapshot {
    return this.snapshot;
  }

  /**
   * Makes `config` the running config for every request that arrives from now on.
   * @throws GatewayConfigError naming a restart-only field that changed (the running config stays)
   */
  swap(config: GatewayConfig, version: string): ClientChanges {
    const refused = restartOnlyChange(this.snapshot.config, config);
    if (refused) throw refused;
    const changes = clientChanges(this.snapshot.config.clients, config.clients);
    this.snapshot = this.build(config, version);
    return changes;
  }

  private build(config: GatewayConfig, version: string): LiveSnapshot {
    return {
      config,
      version,
      pipeline: pipelineForConfig(this.shared, config),
      authenticate: createAuthenticator(config.clients, this.clock),
    };
  }
}

/** The first restart-only field whose value differs, as the error to refuse the document with. */
export function restartOnlyChange(
  running: GatewayConfig,
  next: GatewayConfig,
): GatewayConfigError | undefined {
  const field = RESTART_ONLY_FIELDS.find(
    (path) => JSON.stringify(valueAt(running, path)) !== JSON.stringify(valueAt(next, path)),
  );
  if (field === undefined) return undefined;
  return new GatewayConfigError(
    field,
    'cannot change while the gateway runs (it is read once at start): keep the running value, or restart the gateway to apply it',
  );
}

function valueAt(config: GatewayConfig, path: string): unknown {
  return path
    .split('.')
    .reduce<unknown>((v, key) => (v as Record<string, unknown> | undefined)?.[key], config);
}

export function clientChanges(
  before: readonly ClientConfig[],
  after: readonly ClientConfig[],
): ClientChanges {
  const old = new Map(before.map((c) => [c.id, JSON.stringify(c)]));
  const ids = new Set(after.map((c) => c.id));
  return {
    added: after.filter((c) => !old.has(c.id)).map((c) => c.id),
    removed: before.filter((c) => !ids.has(c.id)).map((c) => c.id),
    changed: after.filter((c) => old.has(c.id) && old.get(c.id) !== JSON.stringify(c)).map((c) => c.id),
  };
}

/** A config document as a source delivers it. */
export interface ConfigDocument {
  /** The document's bytes, as text. */
  readonly text: string;
  /** Where it came from, for the log: a file path, `SIGHUP`, `appconfig`. */
  readonly source: string;
  /** The source's own version (AppConfig's `VersionLabel`). @default the document's SHA-256, 12 hex */
  readonly versionLabel?: string;
}

/** The version a document runs as: the source's label, or the first 12 hex of the SHA-256 of its bytes. */
export function documentVersion(document: Pick<ConfigDocument, 'text' | 'versionLabel'>): string {
  return document.versionLabel ?? sha256Hex(document.text).slice(0, 12);
}

/** Parses and validates a document's text. @throws GatewayConfigError naming the field at fault */
export function parseConfigDocument(text: string): GatewayConfig {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new GatewayConfigError('(document)', `is not valid JSON: ${(err as Error).message}`);
  }
  return parseGatewayConfig(parsed);
}

/** What became of a document given to the reloader. */
export type ReloadOutcome =
  | { readonly kind: 'applied'; readonly version: string; readonly changes: ClientChanges }
  | { readonly kind: 'unchanged'; readonly version: string }
  | { readonly kind: 'rejected'; readonly version: string; readonly field: string };

/** Where the reloader writes: the gateway's logger. */
export type ReloadLog = Pick<FastifyBaseLogger, 'info' | 'warn'>;

export interface ConfigReloaderOptions {
  readonly live: LiveConfig;
  readonly metrics: Pick<GatewayMetrics, 'configEvent'>;
  readonly log: ReloadLog;
}

export class ConfigReloader {
  /** The last version refused, so a source that keeps delivering it is not refused (and logged) again. */
  private rejected: string | undefined;

  constructor(private readonly options: ConfigReloaderOptions) {}

  /** Applies a document, or refuses it and keeps the running one. Never throws. */
  apply(document: ConfigDocument): ReloadOutcome {
    const { live, metrics, log } = this.options;
    const version = documentVersion(document);
    const running = live.current.version;
    if (version === running) this.rejected = undefined;
    if (version === running || version === this.rejected) return { kind: 'unchanged', version };
    let changes: ClientChanges;
    try {
      changes = live.swap(parseConfigDocument(document.text), version);
    } catch (err) {
      const field = err instanceof GatewayConfigError ? err.field : '(document)';
      this.rejected = version;
      metrics.configEvent('configReloadsRejected');
      log.warn(
        { source: document.source, version, running, field },
        `config refused, running ${running} stays: ${(err as Error).message}`,
      );
      return { kind: 'rejected', version, field };
    }
    this.rejected = undefined;
    metrics.configEvent('configReloads');
    log.info({ source: document.source, version, previous: running, ...changes }, 'config loaded');
    return { kind: 'applied', version, changes };
  }

  /** A source could not be read (a failed poll, a missing file): counted, logged; the running config stays. */
  sourceFailed(source: string, err: unknown): void {
    this.options.metrics.configEvent('configSourceErrors');
    this.options.log.warn(
      { source, running: this.options.live.current.version, err: { name: (err as Error).name } },
      `config source unreadable, the running config stays: ${(err as Error).message}`,
    );
  }
}
