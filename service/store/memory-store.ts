import { gcraAdjust, gcraRemaining, gcraReserve, gcraResetMs, type GcraOutcome } from './gcra';
import { LruCache, type LruCacheOptions } from './lru-cache';
import { MemoryObjectOwners } from './object-owners';
import { MemoryPendingEntries } from './pending-entries';
import { systemClock, utcMonthStart, type Clock } from '../../runtime/clock';
import { MonthCache, msUntilNextUtcMonth, retryAfterSeconds, utcMonth } from './month';
import { pickRefusal, ticketFor } from './snapshot';
import type {
  ObjectOwners,
  PendingBatch,
  PendingEntries,
  PendingResponse,
  AdmissionDecision,
  AdmissionRequest,
  CacheEntry,
  GatewayStore,
  RateLimitSnapshot,
  ScopeLimits,
  Ticket,
} from './types';

export interface MemoryStoreOptions {
  /**
   * Wall clock: rate windows, cache expiry and the budget month.
   * @default systemClock
   */
  readonly now?: Clock;
  /**
   * Bounds of the response cache.
   * @default 10000 entries, 64 MiB
   */
  readonly cache?: LruCacheOptions;
}

/** One admission's request-limit reservations, before the cache decides what else applies. */
interface Attempt {
  readonly request: AdmissionRequest;
  readonly now: number;
  readonly month: string;
  readonly keys: ReturnType<typeof rateKeys>;
  readonly clientRequests: GcraOutcome;
  readonly stageRequests: GcraOutcome;
}

/** Rate state entries kept before expired ones are swept (clients come from config, so this rarely matters). */
const RATE_STATE_SWEEP_AT = 10_000;

/**
 * The gateway's state in one process: the same GCRA limits, budgets and reject reasons as the Redis
 * store, for local runs without Redis and, one per outage with each replica's share of the limits, in the
 * `shared` fallback while Redis is down. Everything is synchronous, so each admission is atomic.
 */
export class MemoryStore implements GatewayStore {
  private readonly now: Clock;
  /** Rate scope (`rpm:c:<id>`, `tpm:s`, ...) to TAT in epoch ms. */
  private readonly tats = new Map<string, number>();
  /** `YYYY-MM` to scope (`c:<id>` or `s`) to spend in nano-dollars. */
  private readonly spend = new Map<string, Map<string, number>>();
  private readonly cache: LruCache;
  private currentMonth = '';
  private readonly months = new MonthCache();
  readonly owners: ObjectOwners;
  readonly pending: PendingEntries<PendingResponse> = new MemoryPendingEntries();
  readonly batches: PendingEntries<PendingBatch> = new MemoryPendingEntries();

  constructor(options: MemoryStoreOptions = {}) {
    this.now = options.now ?? systemClock;
    this.cache = new LruCache(options.cache);
    this.owners = new MemoryObjectOwners(this.now);
  }

  async admit(request: AdmissionRequest): Promise<AdmissionDecision> {
    return this.admitNow(request);
  }

  /** The synchronous admission behind `admit` (the fallback of the Redis store uses it directly). */
  admitNow(request: AdmissionRequest): AdmissionDecision {
    const now = this.now();
    const { clientId, client, stage } = request;
    const keys = rateKeys(clientId);
    const attempt: Attempt = {
      request,
      now,
      month: this.monthOf(now),
      keys,
      clientRequests: gcraReserve(this.tats.get(keys.clientRequests), now, { limit: client.rpm }, 1),
      stageRequests: gcraReserve(
        this.tats.get(keys.stageRequests),
        now,
        { limit: stage.rpm, burstMs: stage.burstMs },
        1,
      ),
    };
    // A cache hit uses no tokens and no money: only the request limits apply to it.
    const cached = request.cacheKey === undefined ? null : this.cache.get(request.cacheKey, now);
    return cached === null ? this.admitMiss(attempt) : this.admitHit(attempt, cached);
  }

  private admitHit(attempt: Attempt, cached: string): AdmissionDecision {
    const { request, now, keys, clientRequests, stageRequests } = attempt;
    const tats = this.tats;
    const requestsWaitMs = Math.max(clientRequests.waitMs, stageRequests.waitMs);
    if (requestsWaitMs > 0) {
      return {
        ok: false,
        reason: 'requests',
        retryAfterSeconds: retryAfterSeconds(requestsWaitMs),
        rateLimit: snapshotOf(
          request.client,
          tats.get(keys.clientRequests),
          tats.get(keys.clientTokens),
          now,
        ),
        degraded: false,
      };
    }
    if (tats.size > RATE_STATE_SWEEP_AT) this.sweepRateState(now);
    tats.set(keys.clientRequests, clientRequests.tat);
    tats.set(keys.stageRequests, stageRequests.tat);
    return {
      ok: true,
      ticket: ticketFor(request, attempt.month, true),
      rateLimit: snapshotOf(request.client, clientRequests.tat, tats.get(keys.clientTokens), now),
      cached,
      degraded: false,
    };
  }

  private admitMiss(attempt: Attempt): AdmissionDecision {
    const { request, now, keys, clientRequests, stageRequests } = attempt;
    const { clientId, client, stage, tokens, costNanos } = request;
    const tats = this.tats;
    const clientTokens = gcraReserve(tats.get(keys.clientTokens), now, { limit: client.tpm }, tokens);
    const stageTokens = gcraReserve(
      tats.get(keys.stageTokens),
      now,
      { limit: stage.tpm, burstMs: stage.burstMs },
      tokens,
    );
    const spend = this.monthSpend(attempt.month);
    const clientSpend = spend.get(`c:${clientId}`) ?? 0;
    const stageSpend = spend.get('s') ?? 0;
    const refusal = pickRefusal(
      {
        requestsWaitMs: Math.max(clientRequests.waitMs, stageRequests.waitMs),
        tokensWaitMs: Math.max(clientTokens.waitMs, stageTokens.waitMs),
        clientBudgetExceeded: clientSpend + costNanos > client.budgetNanos,
        stageBudgetExceeded: stageSpend + costNanos > stage.budgetNanos,
      },
      msUntilNextUtcMonth(now),
    );
    if (refusal !== undefined) {
      return {
        ok: false,
        reason: refusal.reason,
        retryAfterSeconds: retryAfterSeconds(refusal.waitMs),
        rateLimit: snapshotOf(client, tats.get(keys.clientRequests), tats.get(keys.clientTokens), now),
        degraded: false,
      };
    }
    if (tats.size > RATE_STATE_SWEEP_AT) this.sweepRateState(now);
    tats.set(keys.clientRequests, clientRequests.tat);
    tats.set(keys.stageRequests, stageRequests.tat);
    tats.set(keys.clientTokens, clientTokens.tat);
    tats.set(keys.stageTokens, stageTokens.tat);
    if (costNanos !== 0) {
      spend.set(`c:${clientId}`, clientSpend + costNanos);
      spend.set('s', stageSpend + costNanos);
    }
    return {
      ok: true,
      ticket: ticketFor(request, attempt.month),
      rateLimit: snapshotOf(client, clientRequests.tat, clientTokens.tat, now),
      cached: null,
      degraded: false,
    };
  }

  async settle(
    ticket: Ticket,
    actual: { readonly tokens: number; readonly costNanos: number },
    cacheEntry?: CacheEntry,
  ): Promise<void> {
    this.settleNow(ticket, actual);
    if (cacheEntry !== undefined)
      await this.cacheSet(cacheEntry.key, cacheEntry.value, cacheEntry.ttlSeconds);
  }

  settleNow(ticket: Ticket, actual: { readonly tokens: number; readonly costNanos: number }): void {
    const now = this.now();
    const unusedTokens = ticket.tokens - actual.tokens;
    if (unusedTokens !== 0) {
      const keys = rateKeys(ticket.clientId);
      this.tats.set(
        keys.clientTokens,
        gcraAdjust(this.tats.get(keys.clientTokens), now, { limit: ticket.client.tpm }, unusedTokens),
      );
      this.tats.set(
        keys.stageTokens,
        gcraAdjust(this.tats.get(keys.stageTokens), now, { limit: ticket.stage.tpm }, unusedTokens),
      );
    }
    const extraCost = actual.costNanos - ticket.costNanos;
    if (extraCost !== 0) {
      const spend = this.monthSpend(ticket.month);
      const clientScope = `c:${ticket.clientId}`;
      spend.set(clientScope, (spend.get(clientScope) ?? 0) + extraCost);
      spend.set('s', (spend.get('s') ?? 0) + extraCost);
    }
  }

  async cacheSet(key: string, value: string, ttlSeconds: number): Promise<void> {
    this.cache.set(key, value, ttlSeconds * 1000, this.now());
  }

  async monthToDateSpendNanos(): Promise<number | undefined> {
    return this.monthSpend(this.monthOf(this.now())).get('s') ?? 0;
  }

  async close(): Promise<void> {
    this.cache.clear();
  }

  /** The month of `now`; on a new month, forgets the spend of all but the month before (settlements may still arrive). */
  private monthOf(now: number): string {
    const month = this.months.monthOf(now);
    if (month !== this.currentMonth) {
      const previous = utcMonth(utcMonthStart(now) - 1);
      for (const kept of this.spend.keys()) {
        if (kept !== month && kept !== previous) this.spend.delete(kept);
      }
      this.currentMonth = month;
    }
    return month;
  }

  private monthSpend(month: string): Map<string, number> {
    let spend = this.spend.get(month);
    if (spend === undefined) {
      spend = new Map();
      this.spend.set(month, spend);
    }
    return spend;
  }

  private sweepRateState(now: number): void {
    for (const [key, tat] of this.tats) if (tat <= now) this.tats.delete(key);
  }
}

function snapshotOf(
  client: ScopeLimits,
  requestsTat: number | undefined,
  tokensTat: number | undefined,
  now: number,
): RateLimitSnapshot {
  return {
    limitRequests: client.rpm,
    remainingRequests: gcraRemaining(requestsTat, now, client.rpm),
    limitTokens: client.tpm,
    remainingTokens: gcraRemaining(tokensTat, now, client.tpm),
    resetRequestsMs: gcraResetMs(requestsTat, now),
    resetTokensMs: gcraResetMs(tokensTat, now),
  };
}

interface RateKeys {
  readonly clientRequests: string;
  readonly clientTokens: string;
  readonly stageRequests: string;
  readonly stageTokens: string;
}

const rateKeysByClient = new Map<string, RateKeys>();

function rateKeys(clientId: string): RateKeys {
  let keys = rateKeysByClient.get(clientId);
  if (keys === undefined) {
    keys = {
      clientRequests: `rpm:c:${clientId}`,
      clientTokens: `tpm:c:${clientId}`,
      stageRequests: 'rpm:s',
      stageTokens: 'tpm:s',
    };
    if (rateKeysByClient.size < RATE_STATE_SWEEP_AT) rateKeysByClient.set(clientId, keys);
  }
  return keys;
}
