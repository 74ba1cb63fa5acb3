/**
 * A batch's reservation is held from its create until the gateway sees it reach a terminal status
 * (completed, failed, expired, cancelled), then settled exactly once to the `usage` the batch reports,
 * at the batch price. The gateway sees a batch in every answer that carries one (a retrieve, a list,
 * a cancel: the observer below) and in a poller over the pending batches in the store, so a batch is
 * settled even when nobody asks for it, by any replica, after a restart too. The store's atomic claim
 * makes one of them the settler. The batch's output and error files become its owner's.
 */
import { BATCH_PRICE_FACTOR } from '../../lambda/batch/validate';
import { costNanos, readResponsesUsage } from '../../runtime/pricing';
import type { PendingBatch } from '../store/types';
import { priceOf } from './metering';
import type { PipelineDeps } from './model-call';
import { jsonObjectOf, recordOwner } from './owned-answers';
import { readCapped, MAX_JSON_ANSWER_BYTES } from './relay-json';

/** The statuses after which a batch bills nothing more. */
export const TERMINAL_BATCH_STATUSES: ReadonlySet<string> = new Set([
  'completed',
  'failed',
  'expired',
  'cancelled',
]);

/**
 * What a terminal batch cost, nano-dollars, at the batch price: its reported usage; nothing when no
 * request of it completed and it reports none; else (usage missing or unreadable) the worst case reserved.
 */
export function batchCostNanos(
  models: PipelineDeps['config']['models'],
  pending: PendingBatch,
  batch: Record<string, unknown>,
): number {
  const usage = readResponsesUsage(batch.usage);
  if (usage !== undefined) {
    return costNanos(priceOf(models, { model: pending.model, priceFactor: BATCH_PRICE_FACTOR }), usage);
  }
  const counts = batch.request_counts as { completed?: unknown } | undefined;
  return counts?.completed === 0 || counts?.completed === undefined ? 0 : pending.ticket.costNanos;
}

/**
 * Sees one batch as `clientId`'s (who passed the ownership check, or the poller for its owner): its
 * files become the owner's, and a terminal batch is settled if this replica wins its claim.
 * @returns true when this call settled it
 */
export async function observeBatch(
  deps: PipelineDeps,
  clientId: string,
  batch: Record<string, unknown>,
): Promise<boolean> {
  if (typeof batch.id !== 'string') return false;
  // Before the answer that names them reaches the caller.
  await recordOwner(deps, clientId, 'file', batch.output_file_id);
  await recordOwner(deps, clientId, 'file', batch.error_file_id);
  if (!TERMINAL_BATCH_STATUSES.has(String(batch.status))) return false;
  // A claim the store cannot make now is made by the next retrieve or poll.
  const pending = await deps.store.batches.claim(batch.id).catch(() => undefined);
  if (pending === undefined) return false;
  await deps.store.settle(pending.ticket, {
    tokens: 0,
    costNanos: batchCostNanos(deps.config.models, pending, batch),
  });
  return true;
}

/** Pending batches one poll reads at most: the rest wait for the next polls, which go on from there. */
export const MAX_POLLED_BATCHES = 100;

/** The ids one poll reads: up to MAX_POLLED_BATCHES from position `from`, wrapping around. */
export function pollWindow(ids: readonly string[], from: number): readonly string[] {
  if (ids.length <= MAX_POLLED_BATCHES) return ids;
  const start = from % ids.length;
  return [...ids.slice(start), ...ids.slice(0, start)].slice(0, MAX_POLLED_BATCHES);
}

/**
 * Reads pending batches from upstream (a window of them, from `from`) and settles the terminal ones.
 * @returns how many it settled
 */
export async function pollPendingBatches(deps: PipelineDeps, signal: AbortSignal, from = 0): Promise<number> {
  let ids: readonly string[];
  try {
    ids = await deps.store.batches.ids();
  } catch {
    return 0;
  }
  let settled = 0;
  for (const id of pollWindow(ids, from)) {
    if (signal.aborted) break;
    try {
      const pending = await deps.store.batches.get(id);
      if (pending === undefined) continue;
      const up = await deps.upstream.send({ method: 'GET', path: `/batches/${id}`, signal });
      const text = await readCapped(up.body, MAX_JSON_ANSWER_BYTES);
      const batch = up.status === 200 ? jsonObjectOf(text) : undefined;
      if (batch !== undefined && (await observeBatch(deps, pending.clientId, batch))) settled++;
    } catch {
      // Upstream or the store failed for this one: the next poll tries again.
    }
  }
  return settled;
}

/** Polls the pending batches every `intervalMs` until stopped; one poll at a time. */
export class BatchPoller {
  private timer: NodeJS.Timeout | undefined;
  private readonly abort = new AbortController();
  private running: Promise<number> | undefined;
  /** Where the next poll's window starts, so a long list is read in turns. */
  private next = 0;

  constructor(
    private readonly deps: PipelineDeps,
    private readonly intervalMs: number,
  ) {}

  start(): void {
    // A tick while a poll runs is skipped: the running one reads every pending batch anyway.
    this.timer = setInterval(() => {
      if (this.running === undefined) void this.pollNow();
    }, this.intervalMs);
    this.timer.unref();
  }

  /**
   * One poll, started once any running poll ends, so it sees everything that happened before the call
   * (a running poll may have read a batch before it ended). @returns how many batches it settled
   */
  pollNow(): Promise<number> {
    const from = this.next;
    this.next += MAX_POLLED_BATCHES;
    const previous = this.running ?? Promise.resolve(0);
    const poll = previous.then(() => pollPendingBatches(this.deps, this.abort.signal, from));
    this.running = poll;
    const clear = () => {
      if (this.running === poll) this.running = undefined;
    };
    poll.then(clear, clear);
    return poll;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.abort.abort();
    await this.running?.catch(() => undefined);
  }
}
