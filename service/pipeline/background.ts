/**
 * Background responses (`background: true`, where `limits.backgroundResponses` allows it). Upstream
 * answers while the response is queued, with no usage: the call's reservation is held, as a pending
 * entry in the store, until the gateway sees the response's final status, then settled once to what
 * it reports. Three paths see a final status: the poller every replica runs over the pending entries
 * (so a response nobody retrieves is settled, by any replica, after a restart too), a retrieve or
 * cancel through the gateway (early), and the stream of a background create that reaches its end
 * (settled as any stream, never held). Each claims the entry first; a claim is atomic, so two
 * replicas never settle one response twice.
 *
 * Failures: an entry the store cannot hold is settled at once at its worst case (never below the
 * bill); while the store or upstream cannot answer a poll, entries stay held (the budgets keep their
 * worst case) and the next poll tries again; a response upstream no longer has (deleted, expired) is
 * settled at its worst case, since it may have billed.
 */
import type { ModelPrice } from '../../runtime/gateway-config';
import { parseJsonObject } from '../../runtime/json';
import { readResponsesUsage, type TokenUsage } from '../../runtime/pricing';
import type { GatewayStore, PendingResponse, Ticket } from '../store/types';
import type { UpstreamClient } from '../upstream/client';
import { addMetered, meter, NOTHING_METERED, type Metered } from './metering';
import { growContext, OWNER_TTL_SECONDS, type ContextTurn } from './objects';
import { Poller } from './poller';
import { MAX_JSON_ANSWER_BYTES, readCapped } from './relay-json';

/** The statuses a response ends in; `queued` and `in_progress` are not among them. */
const FINAL_STATUSES: ReadonlySet<string> = new Set(['completed', 'incomplete', 'failed', 'cancelled']);

/** Most pending entries one poll reads. */
const POLL_BATCH = 100;

/** What a response's JSON says of its end: its status, once final, and the usage it reports. */
export interface FinalStatus {
  readonly status: string;
  readonly usage: TokenUsage | undefined;
}

/** The final status of a `Response` JSON, or undefined while it is pending (or unreadable). */
export function finalStatusOf(text: string): FinalStatus | undefined {
  const value = parseJsonObject(text);
  if (typeof value?.status !== 'string' || !FINAL_STATUSES.has(value.status)) return undefined;
  return { status: value.status, usage: readResponsesUsage(value.usage) };
}

/** What the pipeline hands over of a background call once upstream has named its response. */
export interface HeldCall {
  readonly id: string;
  readonly clientId: string;
  readonly ticket: Ticket;
  readonly price: ModelPrice;
  readonly worstCase: Metered;
  readonly unanswered: number;
  readonly turn?: ContextTurn;
}

export interface BackgroundDeps {
  readonly store: GatewayStore;
  readonly upstream: UpstreamClient;
}

export class BackgroundSettler {
  private readonly poller = new Poller(({ signal, from }) => this.pollWindow(signal, from), POLL_BATCH);

  constructor(private readonly deps: BackgroundDeps) {}

  /**
   * Holds the call's reservation until its final status. False when the store cannot keep it: the
   * call is then settled at once at its worst case (by the caller of `hold`, as any call).
   */
  async hold(call: HeldCall): Promise<boolean> {
    const entry: PendingResponse = { ...call, heldAt: Date.now() };
    try {
      await this.deps.store.pending.hold(entry);
      return true;
    } catch {
      return false;
    }
  }

  /** A response's JSON as a retrieve or cancel answered it: settles it if it is final and pending. */
  async observe(id: string, text: string): Promise<void> {
    const final = finalStatusOf(text);
    if (final !== undefined) await this.settle(id, final);
  }

  /** Asks upstream for the next window of pending responses, after any running poll. @returns how many were settled */
  pollOnce(): Promise<number> {
    return this.poller.pollNow();
  }

  /** Polls every `intervalMs` until `stop`. */
  start(intervalMs: number): void {
    this.poller.start(intervalMs);
  }

  stop(): Promise<void> {
    return this.poller.stop();
  }

  private async pollWindow(signal: AbortSignal, from: number): Promise<number> {
    const entries = await this.deps.store.pending.list(POLL_BATCH, from).catch(() => []);
    let settled = 0;
    for (const entry of entries) {
      if (signal.aborted) break;
      if (await this.check(entry.id, signal)) settled++;
    }
    return settled;
  }

  /** One pending response's status upstream; true when it was settled. */
  private async check(id: string, signal: AbortSignal): Promise<boolean> {
    let status: number;
    let text: string;
    try {
      const up = await this.deps.upstream.send({
        method: 'GET',
        path: `/responses/${id}`,
        signal,
      });
      status = up.status;
      text = await readCapped(up.body, MAX_JSON_ANSWER_BYTES);
    } catch {
      return false; // upstream unreachable: still pending, the next poll asks again
    }
    if (status === 404) return this.settle(id, undefined);
    const final = status === 200 ? finalStatusOf(text) : undefined;
    return final === undefined ? false : this.settle(id, final);
  }

  /**
   * Claims the pending entry of `id` and settles it to `final` (undefined: gone upstream, its worst
   * case). False when there was nothing to claim: never held, or another path settled it.
   */
  private async settle(id: string, final: FinalStatus | undefined): Promise<boolean> {
    const { store } = this.deps;
    const entry = await store.pending.claim(id).catch(() => undefined);
    if (entry === undefined) return false;
    const metered = addMetered(meteredOf(entry, final), entry.worstCase, entry.unanswered);
    await store.settle(entry.ticket, {
      tokens: metered.promptTokens + metered.completionTokens,
      costNanos: metered.costNanos,
    });
    const usage = final?.usage;
    if (usage) {
      const contextTokens = usage.prompt_tokens + (usage.completion_tokens ?? 0);
      await store.owners
        .record(id, { clientId: entry.clientId, contextTokens }, OWNER_TTL_SECONDS.response)
        .catch(() => undefined);
    }
    if (entry.turn) await growContext(store.owners, entry.turn, metered, 1 + entry.unanswered);
    return true;
  }
}

/**
 * What a final response is metered: its usage; a cancelled one without usage nothing (upstream bills
 * a background response when it ends, and a cancelled one reports what it billed); otherwise, or gone,
 * its worst case.
 */
function meteredOf(entry: PendingResponse, final: FinalStatus | undefined): Metered {
  if (final?.usage) return meter(entry.price, final.usage);
  if (final?.status === 'cancelled') return NOTHING_METERED;
  return entry.worstCase;
}
