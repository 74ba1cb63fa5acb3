/**
 * Gateway metrics as CloudWatch Embedded Metric Format, aggregated in process: requests only update
 * counters and small histograms, and each flush writes one EMF line per dimension set
 * ([Stage], [Stage, Model], [Stage, Client]). Latencies go out as `{Values, Counts, Min, Max, Sum, Count}`
 * with values rounded to two significant digits and at most 100 distinct values per metric per line.
 */
import { systemClock, type Clock } from '../../runtime/clock';
import { Dimension, GatewayMetric, METRIC_NAMESPACE } from '../../runtime/metric-names';
import { nanosToUsd } from '../../runtime/pricing';

export type CacheStatus = 'HIT' | 'MISS' | 'BYPASS';

/** What one finished request contributes. */
export interface RequestMetrics {
  /** Real model, when policy resolved one. */
  readonly model?: string;
  /** Client id, when the caller authenticated. */
  readonly clientId?: string;
  readonly status: number;
  readonly latencyMs: number;
  readonly timeToFirstTokenMs?: number;
  readonly upstreamLatencyMs?: number;
  readonly promptTokens: number;
  /** The share of `promptTokens` read from OpenAI's prompt cache. @default 0 */
  readonly cachedPromptTokens?: number;
  readonly completionTokens: number;
  readonly costNanos: number;
  readonly cache?: CacheStatus;
  readonly budgetExceeded: boolean;
  readonly upstream429: number;
  readonly upstreamErrors: number;
  /** Shed by the overload check before any work. @default false */
  readonly shed?: boolean;
}

const MAX_DISTINCT_VALUES = 100;

/** A request's histogram values after `roundSignificant`. */
interface Rounded {
  readonly latency: number;
  readonly upstream: number;
  readonly ttft: number;
}

const COUNTERS = [
  GatewayMetric.requests,
  GatewayMetric.promptTokens,
  GatewayMetric.cachedPromptTokens,
  GatewayMetric.completionTokens,
  GatewayMetric.costUsd,
  GatewayMetric.cacheHits,
  GatewayMetric.cacheMisses,
  GatewayMetric.throttled,
  GatewayMetric.upstream429,
  GatewayMetric.upstreamErrors,
  GatewayMetric.errors5xx,
  GatewayMetric.budgetExceeded,
  GatewayMetric.shed,
] as const;

const HISTOGRAMS = [
  GatewayMetric.latency,
  GatewayMetric.upstreamLatency,
  GatewayMetric.timeToFirstToken,
] as const;

const UNITS: Record<string, string> = {
  [GatewayMetric.latency]: 'Milliseconds',
  [GatewayMetric.upstreamLatency]: 'Milliseconds',
  [GatewayMetric.timeToFirstToken]: 'Milliseconds',
  [GatewayMetric.costUsd]: 'None',
  [GatewayMetric.monthToDateSpendUsd]: 'None',
};

class Histogram {
  readonly values = new Map<number, number>();
  min = Infinity;
  max = -Infinity;
  sum = 0;
  count = 0;

  /** `rounded` is `roundSignificant(value)`, computed once per request for all buckets. */
  add(value: number, rounded: number): void {
    const v = rounded;
    this.values.set(v, (this.values.get(v) ?? 0) + 1);
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
    this.sum += value;
    this.count++;
  }

  toEmf() {
    let entries = [...this.values.entries()].sort((a, b) => a[0] - b[0]);
    while (entries.length > MAX_DISTINCT_VALUES) entries = mergeNeighbours(entries);
    return {
      Values: entries.map((e) => e[0]),
      Counts: entries.map((e) => e[1]),
      Min: round3(this.min),
      Max: round3(this.max),
      Sum: round3(this.sum),
      Count: this.count,
    };
  }
}

class Bucket {
  readonly counters = new Map<string, number>();
  readonly histograms = new Map<string, Histogram>();

  constructor(readonly dimensions: Readonly<Record<string, string>>) {}

  count(name: string, by: number): void {
    this.counters.set(name, (this.counters.get(name) ?? 0) + by);
  }

  observe(name: string, value: number, rounded: number): void {
    let h = this.histograms.get(name);
    if (!h) this.histograms.set(name, (h = new Histogram()));
    h.add(value, rounded);
  }
}

export interface MetricsOptions {
  readonly stage: string;
  /** Receives each EMF line (without the newline). */
  readonly write: (line: string) => void;
  /** Timestamps of the EMF lines. @default systemClock */
  readonly now?: Clock;
}

/** Events of the stage's shared state, counted per flush and written on the stage line even when 0. */
export type StoreEvent = 'storeErrors' | 'fallbackAdmissions' | 'ledgerWriteErrors' | 'ledgerReadErrors';
/** Outcomes of config reloads (service/main/live-config.ts), on the stage line the same way. */
export type ConfigEvent = 'configReloads' | 'configReloadsRejected' | 'configSourceErrors';
type StageEvent = StoreEvent | ConfigEvent;
const STAGE_EVENTS: readonly StageEvent[] = [
  'storeErrors',
  'fallbackAdmissions',
  'ledgerWriteErrors',
  'ledgerReadErrors',
  'configReloads',
  'configReloadsRejected',
  'configSourceErrors',
];

const noStageEvents = (): Record<StageEvent, number> => ({
  storeErrors: 0,
  fallbackAdmissions: 0,
  ledgerWriteErrors: 0,
  ledgerReadErrors: 0,
  configReloads: 0,
  configReloadsRejected: 0,
  configSourceErrors: 0,
});

export class GatewayMetrics {
  private buckets = new Map<string, Bucket>();
  private stageEvents = noStageEvents();

  constructor(private readonly options: MetricsOptions) {}

  record(m: RequestMetrics): void {
    const stage = this.options.stage;
    // Histogram values are rounded once here, not once per dimension set.
    const rounded: Rounded = {
      latency: roundSignificant(m.latencyMs),
      upstream: m.upstreamLatencyMs === undefined ? 0 : roundSignificant(m.upstreamLatencyMs),
      ttft: m.timeToFirstTokenMs === undefined ? 0 : roundSignificant(m.timeToFirstTokenMs),
    };
    this.add(this.bucket('s', Dimension.stage, stage), m, rounded);
    if (m.model) this.add(this.bucket(`m${m.model}`, Dimension.model, m.model), m, rounded);
    if (m.clientId) this.add(this.bucket(`c${m.clientId}`, Dimension.client, m.clientId), m, rounded);
  }

  private add(b: Bucket, m: RequestMetrics, r: Rounded): void {
    b.count(GatewayMetric.requests, 1);
    b.observe(GatewayMetric.latency, m.latencyMs, r.latency);
    if (m.upstreamLatencyMs !== undefined)
      b.observe(GatewayMetric.upstreamLatency, m.upstreamLatencyMs, r.upstream);
    if (m.timeToFirstTokenMs !== undefined) {
      b.observe(GatewayMetric.timeToFirstToken, m.timeToFirstTokenMs, r.ttft);
    }
    if (m.promptTokens) b.count(GatewayMetric.promptTokens, m.promptTokens);
    if (m.cachedPromptTokens) b.count(GatewayMetric.cachedPromptTokens, m.cachedPromptTokens);
    if (m.completionTokens) b.count(GatewayMetric.completionTokens, m.completionTokens);
    if (m.costNanos) b.count(GatewayMetric.costUsd, m.costNanos);
    if (m.cache === 'HIT') b.count(GatewayMetric.cacheHits, 1);
    if (m.cache === 'MISS') b.count(GatewayMetric.cacheMisses, 1);
    if (m.status === 429) b.count(GatewayMetric.throttled, 1);
    if (m.status >= 500) b.count(GatewayMetric.errors5xx, 1);
    if (m.budgetExceeded) b.count(GatewayMetric.budgetExceeded, 1);
    if (m.shed) b.count(GatewayMetric.shed, 1);
    if (m.upstream429) b.count(GatewayMetric.upstream429, m.upstream429);
    if (m.upstreamErrors) b.count(GatewayMetric.upstreamErrors, m.upstreamErrors);
  }

  /** A failed store operation, or a request served while the circuit was open. */
  storeError(): void {
    this.stageEvents.storeErrors++;
  }

  /** One of the store's events: a fallback admission, a failed ledger write or read. */
  storeEvent(event: StoreEvent): void {
    this.stageEvents[event]++;
  }

  /** One outcome of a config reload. */
  configEvent(event: ConfigEvent): void {
    this.stageEvents[event]++;
  }

  /** Writes the aggregated lines and starts a new interval. `spendNanos` adds the MonthToDateSpendUsd gauge. */
  flush(spendNanos?: number): void {
    const buckets = this.buckets;
    const stageEvents = this.stageEvents;
    this.buckets = new Map();
    this.stageEvents = noStageEvents();
    const stage = buckets.get('s');
    const timestamp = (this.options.now ?? systemClock)();
    const anyStageEvent = STAGE_EVENTS.some((event) => stageEvents[event] > 0);
    if (!stage && spendNanos === undefined && !anyStageEvent) return;
    const stageLine = stage ?? new Bucket({ [Dimension.stage]: this.options.stage });
    if (!stage) buckets.set('s', stageLine);
    for (const bucket of buckets.values()) {
      const fields: Record<string, unknown> = { ...bucket.dimensions };
      const metrics: Array<{ Name: string; Unit: string }> = [];
      const isStage = bucket === stageLine;
      if (bucket.counters.size > 0 || bucket.histograms.size > 0) {
        for (const name of COUNTERS) {
          const v = bucket.counters.get(name) ?? 0;
          fields[name] = name === GatewayMetric.costUsd ? nanosToUsd(v) : v;
          metrics.push({ Name: name, Unit: UNITS[name] ?? 'Count' });
        }
        for (const name of HISTOGRAMS) {
          const h = bucket.histograms.get(name);
          if (!h) continue;
          fields[name] = h.toEmf();
          metrics.push({ Name: name, Unit: UNITS[name] });
        }
      }
      if (isStage) {
        for (const event of STAGE_EVENTS) {
          fields[GatewayMetric[event]] = stageEvents[event];
          metrics.push({ Name: GatewayMetric[event], Unit: 'Count' });
        }
        if (spendNanos !== undefined) {
          fields[GatewayMetric.monthToDateSpendUsd] = nanosToUsd(spendNanos);
          metrics.push({ Name: GatewayMetric.monthToDateSpendUsd, Unit: 'None' });
        }
      }
      const emf = {
        _aws: {
          Timestamp: timestamp,
          CloudWatchMetrics: [
            { Namespace: METRIC_NAMESPACE, Dimensions: [Object.keys(bucket.dimensions)], Metrics: metrics },
          ],
        },
        ...fields,
      };
      this.options.write(JSON.stringify(emf));
    }
  }

  /** The bucket of one dimension set; `name`/`value` is the dimension beside Stage (none for the stage bucket). */
  private bucket(key: string, name: string, value: string): Bucket {
    let b = this.buckets.get(key);
    if (!b) {
      const dimensions: Record<string, string> = { [Dimension.stage]: this.options.stage };
      if (name !== Dimension.stage) dimensions[name] = value;
      this.buckets.set(key, (b = new Bucket(dimensions)));
    }
    return b;
  }
}

/** Rounds to two significant digits (0.1 ms resolution below 1 ms). */
export function roundSignificant(value: number): number {
  if (!(value > 0)) return 0;
  if (value < 1) return Math.round(value * 10) / 10;
  return Number(value.toPrecision(2));
}

const round3 = (v: number) => Math.round(v * 1000) / 1000;

function mergeNeighbours(entries: Array<[number, number]>): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let i = 0; i < entries.length; i += 2) {
    const a = entries[i];
    const b = entries[i + 1];
    if (!b) {
      out.push(a);
      continue;
    }
    const count = a[1] + b[1];
    out.push([round3((a[0] * a[1] + b[0] * b[1]) / count), count]);
  }
  return out;
}
