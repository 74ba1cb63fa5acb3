/**
 * What the gateway needs from its shared state: admission against rate limits and budgets, settlement
 * of actual usage, and the response cache. `RedisStore` shares it across replicas; `MemoryStore`
 * serves a single process (local runs, and the `shared` fallback's shares while Redis is down).
 */
import type { ModelPrice } from '../../runtime/gateway-config';

/** Limits of one scope (a client, or the whole stage). */
export interface ScopeLimits {
  /** Requests per minute. */
  readonly rpm: number;
  /** Tokens per minute. */
  readonly tpm: number;
  /** Monthly budget in nano-dollars (see runtime/pricing). */
  readonly budgetNanos: number;
  /**
   * How much of a minute's limit may be spent at once: the scope admits while it is at most `burstMs`
   * ahead of its refill, so the largest burst is `limit x burstMs / 60 s` and the rest is spread out.
   * @default 60000 (the whole minute's limit at once)
   */
  readonly burstMs?: number;
}

export interface AdmissionRequest {
  readonly clientId: string;
  readonly client: ScopeLimits;
  readonly stage: ScopeLimits;
  /** Tokens to reserve against TPM: prompt estimate + max completion tokens x n. */
  readonly tokens: number;
  /** Worst-case cost to reserve against both monthly budgets, nano-dollars. */
  readonly costNanos: number;
  /**
   * Cache key to read in the same round trip; absent when the request is not cacheable. When an entry
   * is found (a hit), only the request is reserved against both RPM limits: a hit uses no tokens and
   * no money, so `tokens` and `costNanos` are neither checked nor reserved, and it is served even
   * when TPM or a budget would refuse a call upstream.
   */
  readonly cacheKey?: string;
}

/** The numbers behind OpenAI's `x-ratelimit-*` response headers, for the calling client. */
export interface RateLimitSnapshot {
  readonly limitRequests: number;
  readonly remainingRequests: number;
  readonly limitTokens: number;
  readonly remainingTokens: number;
  /** Time until the request limit is fully replenished, ms. */
  readonly resetRequestsMs: number;
  /** Time until the token limit is fully replenished, ms. */
  readonly resetTokensMs: number;
}

/** What settle needs to undo or correct a reservation. */
export interface Ticket {
  readonly clientId: string;
  /** Tokens reserved: 0 for a cache hit. */
  readonly tokens: number;
  /** Cost reserved, nano-dollars: 0 for a cache hit. */
  readonly costNanos: number;
  /** UTC month of the reservation, `YYYY-MM`: settlement goes to the month that was charged. */
  readonly month: string;
  /** The limits the reservation was made under (settle needs the token capacity). */
  readonly client: ScopeLimits;
  readonly stage: ScopeLimits;
}

/** A response to store in the cache. */
export interface CacheEntry {
  /** Cache key from the pipeline (the store adds its stage prefix). */
  readonly key: string;
  readonly value: string;
  readonly ttlSeconds: number;
}

export type RejectReason = 'requests' | 'tokens' | 'client_budget' | 'stage_budget' | 'unavailable';

export type AdmissionDecision =
  | {
      readonly ok: true;
      readonly ticket: Ticket;
      readonly rateLimit: RateLimitSnapshot;
      /**
       * The cached value under `cacheKey`, or null on a miss or when no key was given. Non-null means
       * a hit: the ticket reserved the request only (zero tokens and cost) and needs no settlement.
       */
      readonly cached: string | null;
      /** True when the decision came from the fallback because Redis was unavailable. */
      readonly degraded: boolean;
    }
  | {
      readonly ok: false;
      readonly reason: RejectReason;
      /** Seconds until a retry can succeed (for `Retry-After`). */
      readonly retryAfterSeconds: number;
      readonly rateLimit: RateLimitSnapshot;
      readonly degraded: boolean;
    };

export interface GatewayStore {
  /**
   * Reads the cache and checks and reserves RPM, TPM and both budgets atomically, in one round trip
   * (a cache hit: RPM only, see `AdmissionRequest.cacheKey`). Never throws.
   */
  admit(request: AdmissionRequest): Promise<AdmissionDecision>;
  /**
   * Replaces the reservation with what the call really used (tokens and cost from `usage`; zero for a
   * call that never reached upstream). A cache hit's ticket reserved nothing to correct: settling it is
   * a no-op, and the pipeline does not call it. With `cacheEntry` it also stores that entry, as
   * `cacheSet` would, in the same round trip: the settlement and the cache write of a miss are one
   * Redis command. Never throws; a failure is reported through `onError` as a `settle` failure.
   */
  settle(
    ticket: Ticket,
    actual: { readonly tokens: number; readonly costNanos: number },
    cacheEntry?: CacheEntry,
  ): Promise<void>;
  /** Stores a cache entry. Never throws; a failure is reported through `onError`. */
  cacheSet(key: string, value: string, ttlSeconds: number): Promise<void>;
  /** The stage's month-to-date spend in nano-dollars (settled plus reserved), or undefined if unknown. */
  monthToDateSpendNanos(): Promise<number | undefined>;
  /** Who owns each stored object created through the gateway. */
  readonly owners: ObjectOwners;
  /** Background responses whose reservation is held until their final status is seen. */
  readonly pending: PendingEntries<PendingResponse>;
  /** Batches whose reservation waits for their terminal status, shared by every replica. */
  readonly batches: PendingEntries<PendingBatch>;
  close(): Promise<void>;
}

/** Called on every failed or timed-out store operation (metrics and logs; never the key or value). */
export type StoreErrorListener = (operation: string, error: unknown) => void;

/** Who created a stored object (a response, a conversation, a file, a batch) through the gateway. */
export interface ObjectOwner {
  readonly clientId: string;
  /**
   * Input plus output tokens the call that created or last extended the object was billed: at most
   * the context a later call that names it (`previous_response_id`) carries, and is billed, again.
   * @default unknown (the naming call reserves the model's worst case)
   */
  readonly contextTokens?: number;
  /**
   * Times the record's context was extended: a turn that read revision r may set the context exactly
   * only while the record is still at r (see `ObjectOwners.extend`). @default 0
   */
  readonly revision?: number;
}

/** How one call grew an object's context (a conversation's items, a response in it). */
export interface ContextGrowth {
  /** Tokens the call added at most: its own input and output, never what it read of the context. */
  readonly addedTokens: number;
  /**
   * The context's size as the call's usage reports it (what it read plus what it added), which
   * replaces the recorded one only while the record is at `revision`: no other call extended it since
   * this one read it. @default the record grows by `addedTokens`
   */
  readonly exact?: { readonly revision: number; readonly tokens: number };
}

/**
 * Ownership of stored objects, shared by every replica. An object without a record belongs to nobody:
 * the gateway answers it 404, so a lost record makes an object unreachable, never someone else's.
 * Unlike the rest of the store, these reject when the store cannot answer: ownership is never guessed.
 */
export interface ObjectOwners {
  /** Records the owner of `id` for `ttlSeconds` (0: as long as the store keeps it). */
  record(id: string, owner: ObjectOwner, ttlSeconds: number): Promise<void>;
  lookup(id: string): Promise<ObjectOwner | undefined>;
  forget(id: string): Promise<void>;
  /**
   * Grows the context of `id`'s record atomically (shared by replicas): exactly to `growth.exact` when
   * the record is still at its revision, else by `growth.addedTokens`; never above a context window,
   * and an unknown context stays unknown. The revision goes up by one. No record: nothing happens.
   */
  extend(id: string, growth: ContextGrowth): Promise<void>;
}

/**
 * What every pending entry carries: work whose budget reservation is held until a replica sees its
 * object end upstream (a background response, a batch), kept in the store so that any replica can
 * settle it, after a restart too. Plain JSON.
 */
export interface PendingEntry {
  /** The object's id upstream. */
  readonly id: string;
  readonly clientId: string;
  /** The reservation admission made for it, settled once when the object ends. */
  readonly ticket: Ticket;
  /** When it was held, epoch ms: entries are listed oldest first. */
  readonly heldAt: number;
}

/** A background response whose reservation is still held. */
export interface PendingResponse extends PendingEntry {
  /** The model price it is metered at (the tier's factor applied). */
  readonly price: ModelPrice;
  /** Its worst case, tokens and cost, the figure reserved for one upstream call. */
  readonly worstCase: {
    readonly promptTokens: number;
    readonly cachedPromptTokens: number;
    readonly completionTokens: number;
    readonly costNanos: number;
  };
  /** Attempts before the answer that upstream may have billed unseen: charged the worst case each. */
  readonly unanswered: number;
  /** The conversation it extends, as read when it was admitted. @default none */
  readonly turn?: { readonly id: string; readonly revision: number; readonly ownPromptTokens: number };
}

/** A batch created through the gateway whose budget reservation is still held. */
export interface PendingBatch extends PendingEntry {
  /** The real model its lines call, priced at the batch price at settlement. */
  readonly model: string;
}

/**
 * The entries of one kind still pending, shared by every replica (`service/store/pending-entries.ts`).
 * `claim` is atomic: of any number of replicas claiming one id, exactly one gets the entry, so the
 * object is settled exactly once. Like ownership, these reject when the store cannot answer; an entry
 * that is lost keeps its reservation (over-counted, never under).
 */
export interface PendingEntries<T extends PendingEntry> {
  hold(entry: T): Promise<void>;
  /**
   * At most `limit` entries, oldest held first, starting `from` entries in and wrapping around (so a
   * poller reads a long list in turns).
   */
  list(limit: number, from?: number): Promise<T[]>;
  /** Removes and returns the entry of `id`; undefined when there is none (never held, or claimed). */
  claim(id: string): Promise<T | undefined>;
}
