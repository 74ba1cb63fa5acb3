import type { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import { HandlerEnv } from '../../runtime/handler-env';
import { CanaryMetric } from '../../runtime/metric-names';
import { createOpenAIClient } from '../../runtime/openai-client';
import { positiveIntEnv, requiredEnv } from '../shared/env';
import { BadResponseError, describeFailure, isUnauthorized, type FailureCause } from '../shared/failure';

/** Time allowed for the whole canary call when `CANARY_TIMEOUT_MS` is unset. */
export const DEFAULT_CANARY_TIMEOUT_MS = 10_000;

/** The canary's prompt: tiny, fixed, and never logged. */
const CANARY_MESSAGES = [{ role: 'user' as const, content: 'Reply with the single word OK.' }];
/** Enough room for a one-word answer, and for a small reasoning model to finish. */
const CANARY_MAX_COMPLETION_TOKENS = 16;

export interface CanaryResult {
  readonly success: boolean;
  /** Why it failed. */
  readonly cause?: FailureCause;
  /** Upstream HTTP status of a failed call. */
  readonly status?: number;
  /** Request sent to stream finished, ms. */
  readonly latencyMs?: number;
  /** Request sent to first content token, ms; absent when the model sent no content. */
  readonly timeToFirstTokenMs?: number;
}

export interface CanaryDeps {
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Monotonic clock in ms. @default performance.now */
  readonly now?: () => number;
}

interface StreamTiming {
  readonly latencyMs: number;
  readonly timeToFirstTokenMs?: number;
}

/**
 * Sends one tiny streaming chat completion to the stage's upstream and records whether it worked and
 * how fast. Never throws: a failure is a metric and a log line, and the alarm, not Lambda's retries,
 * decides what it means.
 */
export async function runCanary(deps: CanaryDeps): Promise<CanaryResult> {
  const { logger, metrics } = deps;
  const now = deps.now ?? (() => performance.now());
  let result: CanaryResult;
  try {
    const model = requiredEnv(HandlerEnv.canaryModel);
    const timeoutMs = positiveIntEnv(HandlerEnv.canaryTimeoutMs, DEFAULT_CANARY_TIMEOUT_MS);
    let timing: StreamTiming;
    try {
      timing = await streamOnce(model, timeoutMs, false, now);
    } catch (err) {
      if (!isUnauthorized(err)) throw err;
      // The cached key may have been rotated away: read the secret again and try once more.
      logger.warn('canary got 401; retrying once with a freshly read key');
      timing = await streamOnce(model, timeoutMs, true, now);
    }
    result = { success: true, ...timing };
    metrics.addMetric(CanaryMetric.latency, MetricUnit.Milliseconds, timing.latencyMs);
    if (timing.timeToFirstTokenMs !== undefined) {
      metrics.addMetric(CanaryMetric.timeToFirstToken, MetricUnit.Milliseconds, timing.timeToFirstTokenMs);
    }
    logger.info('canary succeeded', { model, ...timing });
  } catch (err) {
    const failure = describeFailure(err);
    result = { success: false, cause: failure.cause, ...(failure.status ? { status: failure.status } : {}) };
    logger.error('canary failed', { ...failure });
  }
  metrics.addMetric(CanaryMetric.success, MetricUnit.Count, result.success ? 1 : 0);
  return result;
}

async function streamOnce(
  model: string,
  timeoutMs: number,
  forceFetch: boolean,
  now: () => number,
): Promise<StreamTiming> {
  const client = await createOpenAIClient({ timeoutMs, maxRetries: 0, forceFetch });
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(new Error(`canary timed out after ${timeoutMs} ms`)), timeoutMs);
  try {
    const started = now();
    let firstToken: number | undefined;
    let finished = false;
    const stream = await client.chat.completions.create(
      {
        model,
        messages: CANARY_MESSAGES,
        max_completion_tokens: CANARY_MAX_COMPLETION_TOKENS,
        stream: true,
        stream_options: { include_usage: true },
      },
      { signal: abort.signal },
    );
    for await (const chunk of stream) {
      const choice = chunk.choices[0];
      if (firstToken === undefined && choice?.delta?.content) firstToken = now();
      if (choice?.finish_reason) finished = true;
    }
    if (!finished) throw new BadResponseError('the stream ended without a finish_reason');
    const latencyMs = Math.round(now() - started);
    return firstToken === undefined
      ? { latencyMs }
      : { latencyMs, timeToFirstTokenMs: Math.round(firstToken - started) };
  } catch (err) {
    if (abort.signal.aborted) throw new CanaryTimeoutError(timeoutMs, err);
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

/** The call did not finish within `CANARY_TIMEOUT_MS`. */
export class CanaryTimeoutError extends Error {
  override readonly name = 'TimeoutError';
  constructor(timeoutMs: number, cause: unknown) {
    super(`no complete answer within ${timeoutMs} ms`, { cause });
  }
}
