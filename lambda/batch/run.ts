import type { BatchContext } from './context';
import { actionsOf } from './events';
import { pollBatches, type PollSummary } from './poll';
import { RetryableSubmitError, submitInputFile, type SubmitOutcome } from './submit';

export interface BatchRunResult {
  /** Outcome per submitted S3 key. */
  readonly submissions: Readonly<Record<string, SubmitOutcome>>;
  readonly poll?: PollSummary;
}

/**
 * Runs what the event asks for. Submissions that can be retried safely are retried by Lambda: the
 * handler throws after handling every record, and already-claimed files are skipped on the retry.
 */
export async function runBatch(event: unknown, ctx: BatchContext): Promise<BatchRunResult> {
  const actions = actionsOf(event);
  if (actions.length === 0)
    ctx.logger.warn('event is neither an S3 object-created event nor a poll; nothing to do');
  const submissions: Record<string, SubmitOutcome> = {};
  let poll: PollSummary | undefined;
  const retryable: RetryableSubmitError[] = [];
  for (const action of actions) {
    if (action.kind === 'poll') {
      poll = await pollBatches(ctx);
      continue;
    }
    try {
      submissions[action.key] = await submitInputFile(ctx, action.bucket, action.key, action.etag);
    } catch (err) {
      if (!(err instanceof RetryableSubmitError)) throw err;
      ctx.logger.error('batch submission failed; Lambda will retry the event', {
        key: action.key,
        detail: err.message,
      });
      retryable.push(err);
    }
  }
  if (retryable.length > 0) throw retryable[0];
  return poll ? { submissions, poll } : { submissions };
}
