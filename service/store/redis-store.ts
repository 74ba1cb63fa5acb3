import Redis from 'ioredis';
import { systemClock, utcMonth, utcMonthStart, type Clock } from '../../runtime/clock';
import { MonthCache, msUntilNextUtcMonth, retryAfterSeconds } from './month';
import {
  ADMIT_SCRIPT,
  OWNER_EXTEND_SCRIPT,
  REPLAY_SCRIPT,
  SEED_SCRIPT,
  SETTLE_SCRIPT,
} from './redis-scripts';
import type { SpendLedger } from './spend-ledger';
import { pickRefusal, ticketFor } from './snapshot';
import type {
  AdmissionDecision,
  AdmissionRequest,
  CacheEntry,
  PendingBatch,
  PendingResponse,
  Ticket,
} from './types';
import { RATE_PERIOD_MS } from './gcra';
import { RedisObjectOwners, type OwnerCommands } from './object-owners';
import { readPendingBatch, readPendingResponse, RedisPendingEntries } from './pending-entries';
import { clientScope, STAGE_SCOPE } from '../../runtime/spend-ledger-schema';

/**
 * A past month's spend counters are kept about forty days after the month ends, long enough for late
 * settlements and reports. The current month's never expire: under the cache's `volatile-lru`
 * eviction only keys with a TTL (cached answers, history) can be dropped.
 */
export const SPEND_KEY_TTL_SECONDS = 40 * 24 * 3600;

export interface RedisStoreOptions {
  /** A connected (or connecting) client from `connectRedis`. The store owns it and quits it on close. */
  readonly redis: Redis;
  /** Stage name: every key starts with `oai:<stage>:`. */
  readonly stage: string;
  /**
   * Test clock. When set, the scripts use it instead of Redis server time, and months follow it.
   * @default Redis server time for rate limits, systemClock for months
   */
  readonly now?: Clock;
  /**
   * How long the first command may wait for the initial connection, ms (later, while disconnected,
   * commands fail at once).
   * @default 50
   */
  readonly connectWaitMs?: number;
  /**
   * The durable spend ledger: with one, a month's counters are seeded from it before they admit
   * spend (after a flush or an empty replacement node the budgets carry on where they were).
   * @default none: Redis alone holds the spend
   */
  readonly ledger?: SpendLedger;
}

/** Month-to-date spend as Redis counted it at an admission, nano-dollars. */
export interface SeenSpend {
  readonly month: string;
  readonly client: number;
  readonly stage: number;
}

/** A decision of the Redis store, with the spend counters it read (absent for a cache hit). */
export type RedisAdmission = AdmissionDecision & { readonly seenSpend?: SeenSpend };

/** The admit script's answer when the month's counters must be seeded from the ledger first. */
const NOT_SEEDED = 2;

/** The admit script's reply; the cached value is present only on a hit. */
type Reply = [
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  (string | null)?,
];

interface ScriptCommands extends OwnerCommands {
  oaiAdmit(...args: (string | number)[]): Promise<Reply>;
  oaiSettle(...args: (string | number)[]): Promise<number>;
  oaiSeed(keyCount: number, ...args: (string | number)[]): Promise<number>;
  oaiReplay(keyCount: number, ...args: (string | number)[]): Promise<number>;
}

interface ClientKeys {
  readonly clientId: string;
  readonly requests: string;
  readonly tokens: string;
  /** Spend key of `month`. */
  spend: string;
  /** Spend key of the month before it: given its TTL by the first spend of `month`. */
  previousSpend: string;
  month: string;
}

/**
 * The gateway's state in Redis/Valkey, shared by every replica: one EVALSHA per admission (limits,
 * budgets and cache read) and one per settlement of a call that went upstream. Unlike the GatewayStore contract, its methods
 * reject when Redis fails: `ResilientStore` adds the circuit breaker and the fallback.
 */
export class RedisStore {
  /** Commands handed to the Redis client so far (tests use it to prove the breaker skips Redis). */
  commandsSent = 0;
  private readonly redis: Redis & ScriptCommands;
  private readonly prefix: string;
  private readonly stageRequestsKey: string;
  private readonly stageTokensKey: string;
  private stageSpendKey = '';
  private previousStageSpendKey = '';
  private stageSpendMonth = '';
  private readonly clientKeys = new Map<string, ClientKeys>();
  private readonly clock: Clock | undefined;
  private readonly connectWaitMs: number;
  private firstReady: Promise<void> | undefined;
  private readonly months = new MonthCache();
  private readonly ledger: SpendLedger | undefined;
  /** The seeding in progress per month: concurrent admissions of an empty Redis wait on one read. */
  private readonly seeding = new Map<string, Promise<void>>();
  readonly owners: RedisObjectOwners;
  readonly pending: RedisPendingEntries<PendingResponse>;
  readonly batches: RedisPendingEntries<PendingBatch>;

  constructor(options: RedisStoreOptions) {
    this.redis = options.redis as Redis & ScriptCommands;
    this.redis.defineCommand('oaiAdmit', { numberOfKeys: 10, lua: ADMIT_SCRIPT });
    this.redis.defineCommand('oaiSettle', { numberOfKeys: 5, lua: SETTLE_SCRIPT });
    this.redis.defineCommand('oaiOwnerExtend', { numberOfKeys: 1, lua: OWNER_EXTEND_SCRIPT });
    this.redis.defineCommand('oaiSeed', { lua: SEED_SCRIPT });
    this.redis.defineCommand('oaiReplay', { lua: REPLAY_SCRIPT });
    this.ledger = options.ledger;
    this.prefix = `oai:${options.stage}:`;
    this.owners = new RedisObjectOwners(this.redis, this.prefix);
    this.pending = new RedisPendingEntries(this.redis, `${this.prefix}bg`, readPendingResponse);
    this.batches = new RedisPendingEntries(this.redis, `${this.prefix}batch`, readPendingBatch);
    this.stageRequestsKey = `${this.prefix}rpm:s`;
    this.stageTokensKey = `${this.prefix}tpm:s`;
    this.clock = options.now;
    this.connectWaitMs = options.connectWaitMs ?? 50;
    if (this.redis.status !== 'ready') {
      this.firstReady = new Promise<void>((resolve) => this.redis.once('ready', resolve)).then(() => {
        this.firstReady = undefined;
      });
    }
  }

  /** The full Redis key of a cache entry. */
  cacheKey(key: string): string {
    return `${this.prefix}cache:${key}`;
  }

  /**
   * Admits against the shared counters. With a ledger, a month whose counters are not seeded (Redis
   * came up empty) is seeded first; a ledger that cannot be read rejects, as Redis errors do.
   */
  async admit(request: AdmissionRequest): Promise<RedisAdmission> {
    if (this.firstReady !== undefined) await this.waitForFirstConnection();
    const now = (this.clock ?? systemClock)();
    const month = this.months.monthOf(now);
    const keys = this.keysOf(request.clientId);
    if (keys.month !== month) this.setMonth(keys, month, now);
    let reply = await this.runAdmit(request, keys, now);
    if (reply[0] === NOT_SEEDED) {
      await this.seed(month);
      reply = await this.runAdmit(request, keys, now);
      if (reply[0] === NOT_SEEDED) throw new Error(`spend counters of ${month} not seeded`);
    }
    return decisionOf(request, { reply, month, now });
  }

  private runAdmit(request: AdmissionRequest, keys: ClientKeys, now: number): Promise<Reply> {
    const { client, stage } = request;
    this.commandsSent++;
    return this.redis.oaiAdmit(
      keys.requests,
      this.stageRequestsKey,
      keys.tokens,
      this.stageTokensKey,
      keys.spend,
      this.stageSpendKey,
      request.cacheKey === undefined ? '' : this.cacheKey(request.cacheKey),
      keys.previousSpend,
      this.previousStageSpendKey,
      this.ledger === undefined ? '' : this.seededKey(keys.month),
      this.clock === undefined ? '' : now,
      client.rpm,
      stage.rpm,
      client.tpm,
      stage.tpm,
      request.tokens,
      request.costNanos,
      client.budgetNanos,
      stage.budgetNanos,
      SPEND_KEY_TTL_SECONDS,
      stage.burstMs ?? RATE_PERIOD_MS,
    );
  }

  /** Raises the month's counters to the ledger's spend and marks the month seeded; one read per month at a time. */
  private seed(month: string): Promise<void> {
    let seeding = this.seeding.get(month);
    if (seeding === undefined) {
      seeding = this.seedFromLedger(month).finally(() => this.seeding.delete(month));
      this.seeding.set(month, seeding);
    }
    return seeding;
  }

  private async seedFromLedger(month: string): Promise<void> {
    // This task's own unwritten increments go first, so only other tasks' can be missing from the seed.
    await this.ledger!.flush();
    const spend = await this.ledger!.read(month);
    const scopes = [...spend.keys()];
    const previous = utcMonth(utcMonthStart(Date.parse(`${month}-01T00:00:00Z`)) - 1);
    this.commandsSent++;
    await this.redis.oaiSeed(
      2 + scopes.length,
      this.seededKey(month),
      this.seededKey(previous),
      ...scopes.map((scope) => this.spendKey(month, scope)),
      SPEND_KEY_TTL_SECONDS,
      ...scopes.map((scope) => spend.get(scope)!),
    );
  }

  /**
   * Adds spend admitted elsewhere (by the fallback while Redis could not answer) to the month's
   * counters, per ledger scope (`s`, `c:<id>`). Left to the seeding when the month is not seeded.
   * Returns whether it was added.
   */
  async replaySpend(month: string, spend: ReadonlyMap<string, number>): Promise<boolean> {
    const scopes = [...spend.keys()];
    if (scopes.length === 0) return true;
    this.commandsSent++;
    const added = await this.redis.oaiReplay(
      1 + scopes.length,
      this.ledger === undefined ? '' : this.seededKey(month),
      ...scopes.map((scope) => this.spendKey(month, scope)),
      ...scopes.map((scope) => Math.round(spend.get(scope)!)),
    );
    return added === 1;
  }

  private seededKey(month: string): string {
    return `${this.prefix}spend:${month}:seeded`;
  }

  /** The counter of a ledger scope: `s` is the stage, `c:<id>` a client. */
  private spendKey(month: string, scope: string): string {
    return `${this.prefix}spend:${month}:${scope}`;
  }

  /** Settles the ticket and, with `cacheEntry`, stores that entry: one command for both. */
  async settle(
    ticket: Ticket,
    actual: { readonly tokens: number; readonly costNanos: number },
    cacheEntry?: CacheEntry,
  ): Promise<void> {
    const unusedTokens = ticket.tokens - actual.tokens;
    const extraCost = actual.costNanos - ticket.costNanos;
    const cache = cacheEntry !== undefined && cacheEntry.ttlSeconds > 0 ? cacheEntry : undefined;
    if (unusedTokens === 0 && extraCost === 0) {
      if (cache !== undefined) await this.cacheSet(cache.key, cache.value, cache.ttlSeconds);
      return;
    }
    if (this.firstReady !== undefined) await this.waitForFirstConnection();
    this.commandsSent++;
    await this.redis.oaiSettle(
      this.keysOf(ticket.clientId).tokens,
      this.stageTokensKey,
      this.spendKey(ticket.month, clientScope(ticket.clientId)),
      this.spendKey(ticket.month, STAGE_SCOPE),
      cache === undefined ? '' : this.cacheKey(cache.key),
      this.clock === undefined ? '' : this.clock(),
      ticket.client.tpm,
      ticket.stage.tpm,
      unusedTokens,
      extraCost,
      // A ticket of a month that has ended settles into history, which may expire (and be evicted).
      ticket.month === this.months.monthOf((this.clock ?? systemClock)()) ? 0 : SPEND_KEY_TTL_SECONDS,
      cache === undefined ? '' : cache.value,
      cache === undefined ? 0 : cache.ttlSeconds,
    );
  }

  async cacheSet(key: string, value: string, ttlSeconds: number): Promise<void> {
    if (ttlSeconds <= 0) return;
    if (this.firstReady !== undefined) await this.waitForFirstConnection();
    this.commandsSent++;
    await this.redis.set(this.cacheKey(key), value, 'EX', ttlSeconds);
  }

  async monthToDateSpendNanos(): Promise<number> {
    if (this.firstReady !== undefined) await this.waitForFirstConnection();
    const month = this.months.monthOf((this.clock ?? systemClock)());
    this.commandsSent++;
    const spent = await this.redis.get(this.spendKey(month, STAGE_SCOPE));
    return spent === null ? 0 : Number(spent);
  }

  /** Quits (or, when not connected, disconnects) and waits until the client has ended, at most a second. */
  async close(): Promise<void> {
    const redis = this.redis;
    if (redis.status === 'end') return;
    let timer: NodeJS.Timeout | undefined;
    const ended = new Promise<void>((resolve) => {
      redis.once('end', resolve);
      timer = setTimeout(resolve, 1_000);
    });
    if (redis.status === 'ready') {
      await redis.quit().catch(() => redis.disconnect());
    } else {
      redis.disconnect();
    }
    await ended;
    clearTimeout(timer);
  }

  /** Precomputed key strings of a client. */
  private keysOf(clientId: string): ClientKeys {
    let keys = this.clientKeys.get(clientId);
    if (keys === undefined) {
      keys = {
        clientId,
        requests: `${this.prefix}rpm:c:${clientId}`,
        tokens: `${this.prefix}tpm:c:${clientId}`,
        spend: '',
        previousSpend: '',
        month: '',
      };
      this.clientKeys.set(clientId, keys);
    }
    return keys;
  }

  /** Points a client's (and the stage's) spend keys at `month`, read at `now`: once a month, not per request. */
  private setMonth(keys: ClientKeys, month: string, now: number): void {
    const previous = utcMonth(utcMonthStart(now) - 1);
    keys.spend = this.spendKey(month, clientScope(keys.clientId));
    keys.previousSpend = this.spendKey(previous, clientScope(keys.clientId));
    keys.month = month;
    if (this.stageSpendMonth !== month) {
      this.stageSpendKey = this.spendKey(month, STAGE_SCOPE);
      this.previousStageSpendKey = this.spendKey(previous, STAGE_SCOPE);
      this.stageSpendMonth = month;
    }
  }

  /** Resolves true once the client is connected and ready, or false after `timeoutMs`. */
  async whenReady(timeoutMs: number): Promise<boolean> {
    if (this.redis.status === 'ready') return true;
    let timer: NodeJS.Timeout | undefined;
    let onReady: (() => void) | undefined;
    const ready = await new Promise<boolean>((resolve) => {
      onReady = () => resolve(true);
      this.redis.once('ready', onReady);
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    clearTimeout(timer);
    if (onReady !== undefined) this.redis.off('ready', onReady);
    return ready;
  }

  /**
   * Until the first connection is ready, waits for it for at most `connectWaitMs` (so requests that
   * arrive while a new task connects are not all sent to the fallback); after that, ioredis fails
   * commands at once while disconnected.
   */
  private async waitForFirstConnection(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.connectWaitMs);
    });
    await Promise.race([this.firstReady, timedOut]);
    clearTimeout(timer);
  }
}

/** The admission decision of the admit script's reply. */
function decisionOf(
  request: AdmissionRequest,
  { reply, month, now }: { readonly reply: Reply; readonly month: string; readonly now: number },
): RedisAdmission {
  const rateLimit = {
    limitRequests: request.client.rpm,
    remainingRequests: reply[5],
    limitTokens: request.client.tpm,
    remainingTokens: reply[7],
    resetRequestsMs: reply[6],
    resetTokensMs: reply[8],
  };
  // A cache hit reads no spend counter (-1).
  const seenSpend = reply[9] < 0 ? undefined : { month, client: reply[9], stage: reply[10] };
  if (reply[0] === 1) {
    const cached = reply[11] ?? null;
    return {
      ok: true,
      ticket: ticketFor(request, month, cached !== null),
      rateLimit,
      cached,
      degraded: false,
      seenSpend,
    };
  }
  const refusal = pickRefusal(
    {
      requestsWaitMs: reply[1],
      tokensWaitMs: reply[2],
      clientBudgetExceeded: reply[3] === 1,
      stageBudgetExceeded: reply[4] === 1,
    },
    msUntilNextUtcMonth(now),
  );
  // The script refused, so some check failed; 'requests' with 1 s only guards against a wait rounded to 0.
  return {
    ok: false,
    reason: refusal?.reason ?? 'requests',
    retryAfterSeconds: retryAfterSeconds(refusal?.waitMs ?? 0),
    rateLimit,
    degraded: false,
    seenSpend,
  };
}
