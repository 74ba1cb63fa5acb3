import { systemClock, type Clock } from '../../runtime/clock';
import type { StoreFallback } from '../../runtime/gateway-config';
import type { CircuitBreaker } from './circuit-breaker';
import type { CommandDeadline } from './command-deadline';
import { CircuitOpenError, StoreOperationError } from './errors';
import { GuardedObjectOwners } from './object-owners';
import { GuardedPendingEntries } from './pending-entries';
import { retryAfterSeconds, utcMonth } from './month';
import type { RedisAdmission, RedisStore } from './redis-store';
import { SharedFallback } from './shared-fallback';
import type { SpendLedger } from './spend-ledger';
import { fullSnapshot, ticketFor } from './snapshot';
import { clientScope, STAGE_SCOPE } from '../../runtime/spend-ledger-schema';
import type {
  AdmissionDecision,
  AdmissionRequest,
  CacheEntry,
  GatewayStore,
  ObjectOwners,
  PendingBatch,
  PendingEntries,
  PendingResponse,
  StoreErrorListener,
  Ticket,
} from './types';

export interface ResilientStoreOptions {
  readonly primary: RedisStore;
  readonly breaker: CircuitBreaker;
  /**
   * The breaker of cache writes: a write that fails or times out (a large entry, a full node) opens
   * this one, never the breaker admissions depend on; while it is open answers are not cached.
   */
  readonly cacheBreaker: CircuitBreaker;
  /** What admissions do while Redis is unavailable. */
  readonly fallback: StoreFallback;
  /**
   * Times every command by Redis's time, leaving out the gateway's own event-loop stalls, so that an
   * overloaded gateway does not open the breaker on a healthy Redis.
   * @default none: the Redis client's own (wall-clock) command timeout
   */
  readonly deadline?: CommandDeadline;
  /**
   * The replicas the stage may run (its autoscaling maximum): under the `shared` fallback each
   * enforces 1/N of the limits and of the budget left.
   * @default 1
   */
  readonly replicas?: number;
  /**
   * The durable spend ledger: told of every change to a spend counter, Redis's or the fallback's, and
   * read for the spend a replica has not seen when an outage begins.
   * @default none
   */
  readonly ledger?: SpendLedger;
  readonly onError?: StoreErrorListener;
  /**
   * Clock of the fallback (rate windows, months).
   * @default systemClock
   */
  readonly now?: Clock;
}

/**
 * The Redis store made safe for the request path: every operation either answers from Redis within
 * the command timeout or falls back, and never throws. After repeated failures the circuit opens and
 * requests go straight to the fallback (`shared`, `open` or `closed`, see `StoreFallback`) with
 * `degraded: true`, until a probe finds Redis healthy again.
 */
export class ResilientStore implements GatewayStore {
  /** Tickets the `open` fallback issued: nothing to settle but their spend. */
  private readonly openTickets = new WeakSet<Ticket>();
  private readonly primary: RedisStore;
  private readonly breaker: CircuitBreaker;
  private readonly cacheBreaker: CircuitBreaker;
  private readonly fallback: StoreFallback;
  private readonly shared: SharedFallback;
  private readonly ledger: SpendLedger | undefined;
  /** Spend the fallback admitted, per month and ledger scope, not yet added to the Redis counters. */
  private readonly unreplayed = new Map<string, Map<string, number>>();
  /** The replay under way: admissions wait for it. */
  private replaying: Promise<void> | undefined;
  private readonly onError: StoreErrorListener | undefined;
  private readonly now: Clock;
  private readonly deadline: CommandDeadline | undefined;
  /** Ownership has no fallback: a replica cannot know what another created, so it is never guessed. */
  readonly owners: ObjectOwners;
  /** Pending background responses have no fallback either: another replica may have to settle them. */
  readonly pending: PendingEntries<PendingResponse>;
  /** Nor do pending batches: a reservation held in Redis is settled in Redis, by whichever replica. */
  readonly batches: PendingEntries<PendingBatch>;

  constructor(options: ResilientStoreOptions) {
    this.primary = options.primary;
    this.breaker = options.breaker;
    const { breaker, onError, deadline } = options;
    this.owners = new GuardedObjectOwners(options.primary.owners, breaker, onError, deadline);
    this.pending = new GuardedPendingEntries(options.primary.pending, breaker, onError, deadline);
    this.batches = new GuardedPendingEntries(options.primary.batches, breaker, onError, deadline);
    this.deadline = deadline;
    this.cacheBreaker = options.cacheBreaker;
    this.fallback = options.fallback;
    this.onError = options.onError;
    this.now = options.now ?? systemClock;
    this.ledger = options.ledger;
    this.shared = new SharedFallback({ replicas: options.replicas ?? 1, ledger: this.ledger, now: this.now });
  }

  /** The circuit's state, for health reporting. */
  get circuitState(): CircuitBreaker['state'] {
    return this.breaker.state;
  }

  /** Redis commands attempted so far. */
  get redisCommandsSent(): number {
    return this.primary.commandsSent;
  }

  /**
   * Resolves true once Redis is connected, or false after `timeoutMs`. The gateway may await it at
   * start so that its first requests do not go to the fallback; it works without.
   */
  whenConnected(timeoutMs: number): Promise<boolean> {
    return this.primary.whenReady(timeoutMs);
  }

  async admit(request: AdmissionRequest): Promise<AdmissionDecision> {
    if (!this.breaker.allow()) return this.fallbackAdmit(request, new CircuitOpenError('admit'));
    let decision: RedisAdmission;
    try {
      // Redis admits nothing before it holds what this replica's fallback admitted meanwhile (checked
      // here so that the usual admission, with nothing to replay, awaits nothing more).
      if (this.unreplayed.size > 0 || this.replaying !== undefined) await this.replayed();
      decision = await this.timed(this.primary.admit(request));
    } catch (error) {
      this.breaker.failure();
      return this.fallbackAdmit(request, new StoreOperationError('admit', error));
    }
    this.breaker.success();
    if (decision.seenSpend !== undefined) this.shared.observe(request.clientId, decision.seenSpend);
    const { seenSpend: _seen, ...answer } = decision;
    if (answer.ok) this.recordSpend(answer.ticket, answer.ticket.costNanos);
    return answer;
  }

  /**
   * Settles in Redis, with the cache entry in the same command. Tickets of the fallback settle where
   * they were reserved (their requests bypassed the cache, so there is no entry to store). The
   * ledger gets every correction, even one Redis misses.
   */
  async settle(
    ticket: Ticket,
    actual: { readonly tokens: number; readonly costNanos: number },
    cacheEntry?: CacheEntry,
  ): Promise<void> {
    const fromFallback = this.shared.issued(ticket) || this.openTickets.has(ticket);
    this.recordSpend(ticket, actual.costNanos - ticket.costNanos, fromFallback);
    if (fromFallback) return this.shared.settle(ticket, actual);
    // Nothing to correct: no Redis call (and no probe that would never report back), but the entry.
    if (ticket.tokens === actual.tokens && ticket.costNanos === actual.costNanos) {
      if (cacheEntry !== undefined)
        await this.cacheSet(cacheEntry.key, cacheEntry.value, cacheEntry.ttlSeconds);
      return;
    }
    // While the circuit is open the correction is dropped: reserved tokens refill within a minute and
    // the budget keeps the worst case, the conservative side. The cache write is skipped as well.
    if (!this.breaker.allow()) return;
    const entry = cacheEntry !== undefined && this.cacheBreaker.allow() ? cacheEntry : undefined;
    try {
      await this.timed(this.primary.settle(ticket, actual, entry));
      this.breaker.success();
      if (entry) this.cacheBreaker.success();
      this.redisAnswered();
    } catch (error) {
      // With an entry, the write may be what failed: it counts against caching, not admissions (a
      // Redis that is really down fails the admissions too, which open their own breaker).
      if (entry) this.cacheBreaker.failure();
      else this.breaker.failure();
      this.report('settle', new StoreOperationError('settle', error));
    }
  }

  async cacheSet(key: string, value: string, ttlSeconds: number): Promise<void> {
    if (ttlSeconds <= 0 || !this.cacheBreaker.allow()) return;
    try {
      await this.timed(this.primary.cacheSet(key, value, ttlSeconds));
      this.cacheBreaker.success();
    } catch (error) {
      this.cacheBreaker.failure();
      this.report('cacheSet', new StoreOperationError('cacheSet', error));
    }
  }

  async monthToDateSpendNanos(): Promise<number | undefined> {
    if (!this.breaker.allow()) return undefined;
    try {
      const spent = await this.timed(this.primary.monthToDateSpendNanos());
      this.breaker.success();
      return spent;
    } catch (error) {
      this.breaker.failure();
      this.report('monthToDateSpend', new StoreOperationError('monthToDateSpend', error));
      return undefined;
    }
  }

  async close(): Promise<void> {
    this.deadline?.close();
    await Promise.all([this.primary.close(), this.ledger?.close()]);
  }

  private timed<T>(command: Promise<T>): Promise<T> {
    return this.deadline ? this.deadline.run(command) : command;
  }

  private async fallbackAdmit(request: AdmissionRequest, error: Error): Promise<AdmissionDecision> {
    this.report('admit', error);
    switch (this.fallback) {
      case 'shared': {
        const decision = await this.shared.admit(request);
        if (decision.ok) this.recordSpend(decision.ticket, decision.ticket.costNanos, true);
        return decision;
      }
      case 'open': {
        const ticket = ticketFor(request, utcMonth(this.now()));
        this.openTickets.add(ticket);
        this.recordSpend(ticket, ticket.costNanos, true);
        return { ok: true, ticket, rateLimit: fullSnapshot(request), cached: null, degraded: true };
      }
      case 'closed':
        return {
          ok: false,
          reason: 'unavailable',
          retryAfterSeconds: retryAfterSeconds(this.breaker.msUntilProbe),
          rateLimit: fullSnapshot(request),
          degraded: true,
        };
    }
  }

  /**
   * Tells the ledger of a change to a spend counter; the fallback's changes are also kept for the
   * Redis counters, which did not see them.
   */
  private recordSpend(ticket: Ticket, nanos: number, fromFallback = false): void {
    if (nanos === 0) return;
    this.ledger?.add(ticket.month, ticket.clientId, nanos);
    if (!fromFallback) return;
    let scopes = this.unreplayed.get(ticket.month);
    if (scopes === undefined) {
      scopes = new Map();
      this.unreplayed.set(ticket.month, scopes);
    }
    for (const scope of [clientScope(ticket.clientId), STAGE_SCOPE])
      scopes.set(scope, (scopes.get(scope) ?? 0) + nanos);
  }

  /** Redis answered: the fallback's spend goes to the Redis counters. */
  private redisAnswered(): void {
    if (this.unreplayed.size > 0 && this.replaying === undefined)
      this.replayed().catch((error: unknown) =>
        this.report('replay', new StoreOperationError('replay', error)),
      );
  }

  /**
   * Resolves once the fallback's spend admitted so far is in the Redis counters; rejects when Redis
   * fails it (the spend is kept for the next try, the admission waiting on it falls back and is
   * reported). One replay at a time: callers share it.
   */
  private async replayed(): Promise<void> {
    if (this.replaying !== undefined) await this.replaying;
    if (this.unreplayed.size === 0) return;
    this.replaying ??= this.replay().finally(() => (this.replaying = undefined));
    await this.replaying;
  }

  private async replay(): Promise<void> {
    for (const [month, scopes] of this.unreplayed) {
      this.unreplayed.delete(month);
      try {
        await this.timed(this.primary.replaySpend(month, scopes));
      } catch (error) {
        // Kept for the next time Redis answers; merged with what the fallback added meanwhile.
        const now = this.unreplayed.get(month) ?? new Map<string, number>();
        for (const [scope, nanos] of scopes) now.set(scope, (now.get(scope) ?? 0) + nanos);
        this.unreplayed.set(month, now);
        throw error;
      }
    }
  }

  private report(operation: string, error: Error): void {
    try {
      this.onError?.(operation, error);
    } catch {
      // A failing listener must not turn a fallback into a failed request.
    }
  }
}
