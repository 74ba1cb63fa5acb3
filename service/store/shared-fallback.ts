/**
 * The `shared` fallback: while Redis cannot answer, each of the stage's N replicas enforces its share,
 * so that together they stay within the stage's limits and budgets. Rate limits are divided by N.
 * Budgets start from the spend last known (the larger of what Redis reported at this replica's last
 * admission of the scope and what the durable ledger holds, read once when the outage begins), and
 * each replica may spend 1/N of what was left. N replicas together admit at most the remaining budget
 * plus one request per replica (a settlement above its reservation), give or take the spend admitted
 * in the last ledger flush interval before the outage that this replica had not seen.
 *
 * An outage lasts until the fallback has not been asked for `holdMs`: a Redis that answers some
 * commands and times out others (an overloaded node, a flapping network) leaves the replica in one
 * outage, with the same buckets and the spend it admitted still counted, instead of a fresh share at
 * every timeout. Redis's counters also hold that spend by then (the Redis store replays it before
 * its next admission), so for the rest of the hold it counts twice: the conservative side.
 *
 * With a ledger, a scope whose spend this replica has never seen and the ledger cannot tell (its read
 * failed) is refused (`unavailable`): without a number, a share of a budget is a guess. Without a
 * ledger, Redis was the only record of spend, and what a replica never saw counts as none.
 */
import type { Clock } from '../../runtime/clock';
import { clientScope, STAGE_SCOPE } from '../../runtime/spend-ledger-schema';
import { MemoryStore } from './memory-store';
import { retryAfterSeconds, utcMonth } from './month';
import { fullSnapshot } from './snapshot';
import type { SeenSpend } from './redis-store';
import type { SpendLedger } from './spend-ledger';
import type { AdmissionDecision, AdmissionRequest, ScopeLimits, Ticket } from './types';

export interface SharedFallbackOptions {
  /** The most replicas the stage runs (its autoscaling maximum): each enforces 1/N. */
  readonly replicas: number;
  /** Read once per outage for the spend this replica has not seen. @default none */
  readonly ledger?: SpendLedger;
  readonly now: Clock;
  /**
   * How long the first admission of an outage waits for the ledger read, ms; after that the read
   * may still land and later admissions use it.
   * @default 1000
   */
  readonly ledgerWaitMs?: number;
  /**
   * How long an outage outlives its last admission, ms: the rate window, after which its buckets
   * would be full again anyway.
   * @default 60000
   */
  readonly holdMs?: number;
}

/** One outage: the replica's buckets and shares from its first admission until the hold runs out. */
interface Outage {
  readonly local: MemoryStore;
  /** Scope key (`<month> <scope>`) to spend, from the ledger once its read lands. */
  ledgerSpend?: Map<string, number>;
  /** The ledger read, settled (read or failed) or none at all. */
  ledgerRead?: Promise<void>;
  /** When the fallback was last asked for an admission, by the store's clock. */
  lastAdmitAt: number;
}

export class SharedFallback {
  /** Spend last reported by Redis per `<month> <scope>`, nano-dollars. */
  private readonly seen = new Map<string, number>();
  private seenMonth = '';
  private outage: Outage | undefined;
  /** The outage's store each ticket was reserved in: its settlement goes there, even after recovery. */
  private readonly issuedBy = new WeakMap<Ticket, MemoryStore>();
  private readonly replicas: number;
  private readonly ledger: SpendLedger | undefined;
  private readonly now: Clock;
  private readonly ledgerWaitMs: number;
  private readonly holdMs: number;

  constructor(options: SharedFallbackOptions) {
    this.replicas = Math.max(1, Math.floor(options.replicas));
    this.ledger = options.ledger;
    this.now = options.now;
    this.ledgerWaitMs = options.ledgerWaitMs ?? 1_000;
    this.holdMs = options.holdMs ?? 60_000;
  }

  /** Remembers the spend Redis reported at an admission. */
  observe(clientId: string, spend: SeenSpend): void {
    if (spend.month !== this.seenMonth) {
      this.seen.clear();
      this.seenMonth = spend.month;
    }
    this.seen.set(`${spend.month} ${clientScope(clientId)}`, spend.client);
    this.seen.set(`${spend.month} ${STAGE_SCOPE}`, spend.stage);
  }

  async admit(request: AdmissionRequest): Promise<AdmissionDecision> {
    const outage = this.current();
    if (outage.ledgerRead !== undefined) await withDeadline(outage.ledgerRead, this.ledgerWaitMs);
    const month = utcMonth(this.now());
    const clientBase = this.spendOf(outage, month, clientScope(request.clientId));
    const stageBase = this.spendOf(outage, month, STAGE_SCOPE);
    if (request.costNanos !== 0 && (clientBase === undefined || stageBase === undefined)) {
      return {
        ok: false,
        reason: 'unavailable',
        retryAfterSeconds: retryAfterSeconds(1_000),
        rateLimit: fullSnapshot(request),
        degraded: true,
      };
    }
    const decision = outage.local.admitNow({
      ...request,
      client: this.share(request.client, clientBase ?? 0),
      stage: this.share(request.stage, stageBase ?? 0),
    });
    if (decision.ok) this.issuedBy.set(decision.ticket, outage.local);
    return { ...decision, degraded: true };
  }

  /** Settles a ticket this fallback issued, in the outage's store that reserved it. */
  settle(ticket: Ticket, actual: { readonly tokens: number; readonly costNanos: number }): void {
    this.issuedBy.get(ticket)?.settleNow(ticket, actual);
  }

  /** True for tickets this fallback issued. */
  issued(ticket: Ticket): boolean {
    return this.issuedBy.has(ticket);
  }

  /** The outage under way, or a new one once the last has been idle for the hold. */
  private current(): Outage {
    const now = this.now();
    const outage =
      this.outage !== undefined && now - this.outage.lastAdmitAt < this.holdMs
        ? this.outage
        : this.begin(now);
    outage.lastAdmitAt = now;
    return outage;
  }

  private begin(now: number): Outage {
    const outage: Outage = { local: new MemoryStore({ now: this.now }), lastAdmitAt: now };
    const month = utcMonth(now);
    outage.ledgerRead = this.ledger?.read(month).then(
      (spend) => {
        outage.ledgerSpend = new Map([...spend].map(([scope, nanos]) => [`${month} ${scope}`, nanos]));
        outage.ledgerRead = undefined;
      },
      // Reported by the ledger; the bases are then what Redis last said.
      () => (outage.ledgerRead = undefined),
    );
    this.outage = outage;
    return outage;
  }

  /** The larger of the spend Redis last reported and the ledger's; undefined when neither knows. */
  private spendOf(outage: Outage, month: string, scope: string): number | undefined {
    const key = `${month} ${scope}`;
    const seen = this.seen.get(key);
    // Without a ledger Redis was the only record, and what this replica never saw is taken as none.
    if (this.ledger === undefined) return seen ?? 0;
    const ledger = outage.ledgerSpend === undefined ? undefined : (outage.ledgerSpend.get(key) ?? 0);
    if (seen === undefined) return ledger;
    return ledger === undefined ? seen : Math.max(seen, ledger);
  }

  private share(limits: ScopeLimits, spentNanos: number): ScopeLimits {
    const n = this.replicas;
    return {
      ...limits,
      rpm: limits.rpm / n,
      tpm: limits.tpm / n,
      budgetNanos: Math.floor(Math.max(0, limits.budgetNanos - spentNanos) / n),
    };
  }
}

async function withDeadline(work: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([work, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}
