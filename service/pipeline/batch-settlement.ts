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
import { Poller } from './poller';
import type { PipelineDeps } from './model-call';
import { parseJsonObject } from '../../runtime/json';
import { recordOwner } from './owned-answers';
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

/**
 * Reads pending batches from upstream (a window of them, from `from`) and settles the terminal ones.
 * @returns how many it settled
 */
async function pollPendingBatches(deps: PipelineDeps, signal: AbortSignal, from: number): Promise<number> {
  let pending: readonly PendingBatch[];
  try {
    pending = await deps.store.batches.list(MAX_POLLED_BATCHES, from);
  } catch {
    return 0;
  }
  let settled = 0;
  for (const { id, clientId } of pending) {
    if (signal.aborted) break;
    try {
      const up = await deps.upstream.send({ method: 'GET', path: `/batches/${id}`, signal });
      const text = await readCapped(up.body, MAX_JSON_ANSWER_BYTES);
      const batch = up.status === 200 ? parseJsonObject(text) : undefined;
      if (batch !== undefined && (await observeBatch(deps, clientId, batch))) settled++;
    } catch {
      // Upstream or the store failed for this one: the next poll tries again.
    }
  }
  return settled;
}

/**
 * Polls the pending batches (see `Poller`): every replica runs one; the claim settles each once. Given
 * a function, each poll prices with the config running then.
 */
export function batchPoller(deps: PipelineDeps | (() => PipelineDeps)): Poller {
  const current = typeof deps === 'function' ? deps : () => deps;
  return new Poller(({ signal, from }) => pollPendingBatches(current(), signal, from), MAX_POLLED_BATCHES);
}
