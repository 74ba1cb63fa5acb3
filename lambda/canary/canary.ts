import type { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import { HandlerEnv } from '../../runtime/handler-env';
import { CanaryMetric } from '../../runtime/metric-names';
import type OpenAI from 'openai';
import { createOpenAIClient } from '../../runtime/openai-client';
import { positiveIntEnv, requiredEnv } from '../shared/env';
import { BadResponseError, describeFailure, isUnauthorized, type FailureCause } from '../shared/failure';

/** Time allowed for the whole canary call when `CANARY_TIMEOUT_MS` is unset. */
export const DEFAULT_CANARY_TIMEOUT_MS = 10_000;

/** The canary's prompt: tiny, fixed, and never logged. */
const CANARY_MESSAGES = [{ role: 'user' as const, content: 'Reply with the single word OK.' }];
/** Enough room for a one-word answer, and for a small reasoning model to finish (Responses' minimum). */
const CANARY_MAX_COMPLETION_TOKENS = 16;

/** Which of the canary's two calls failed. */
export type CanaryProbe = 'chat' | 'responses';

export interface CanaryResult {
  readonly success: boolean;
  /** Why it failed. */
  readonly cause?: FailureCause;
  /** Upstream HTTP status of a failed call. */
  readonly status?: number;
  /** The call that failed (the chat completion's failure is reported when both fail). */
  readonly failedProbe?: CanaryProbe;
  /** Chat completion: request sent to stream finished, ms. */
  readonly latencyMs?: number;
  /** Chat completion: request sent to first content token, ms; absent when the model sent no content. */
  readonly timeToFirstTokenMs?: number;
  /** Responses call: request sent to terminal event, ms. */
  readonly responsesLatencyMs?: number;
  /** Responses call: request sent to first `response.output_text.delta`, ms; absent when it sent none. */
  readonly responsesTimeToFirstTokenMs?: number;
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

/** What one probe call needs: the model, the time it has, the clock and the signal that ends it. */
interface ProbeInput {
  readonly model: string;
  readonly timeoutMs: number;
  readonly now: () => number;
  readonly signal: AbortSignal;
}

type Probe = (client: OpenAI, input: ProbeInput) => Promise<StreamTiming>;

/** The metric names of one probe's latency and time to first token. */
const PROBE_METRICS: Record<CanaryProbe, { readonly latency: string; readonly timeToFirstToken: string }> = {
  chat: { latency: CanaryMetric.latency, timeToFirstToken: CanaryMetric.timeToFirstToken },
  responses: {
    latency: CanaryMetric.responsesLatency,
    timeToFirstToken: CanaryMetric.responsesTimeToFirstToken,
  },
};

/**
 * Sends one tiny streaming chat completion and one tiny streamed Responses call to the stage's
 * upstream, at once, and records whether both worked and how fast each was. Never throws: a failure
 * is a metric and a log line, and the alarm, not Lambda's retries, decides what it means.
 */
export async function runCanary(deps: CanaryDeps): Promise<CanaryResult> {
  const { logger, metrics } = deps;
  const now = deps.now ?? (() => performance.now());
  let result: CanaryResult;
  try {
    const model = requiredEnv(HandlerEnv.canaryModel);
    const timeoutMs = positiveIntEnv(HandlerEnv.canaryTimeoutMs, DEFAULT_CANARY_TIMEOUT_MS);
    const clients = new CanaryClients(timeoutMs);
    await clients.first(); // an unreadable key fails the canary, not one of its probes
    result = await probeBoth({ input: { model, timeoutMs, now }, clients, logger }, metrics);
    logger.info('canary succeeded', { model, ...result });
  } catch (err) {
    const probe = err instanceof ProbeError ? err.probe : undefined;
    const failure = describeFailure(err instanceof ProbeError ? err.cause : err);
    result = {
      success: false,
      cause: failure.cause,
      ...(failure.status ? { status: failure.status } : {}),
      ...(probe ? { failedProbe: probe } : {}),
    };
    logger.error('canary failed', { ...failure, ...(probe ? { probe } : {}) });
  }
  metrics.addMetric(CanaryMetric.success, MetricUnit.Count, result.success ? 1 : 0);
  return result;
}

/**
 * Both probes at once (the Lambda timeout fits them side by side, not one after the other); each
 * one's timing is published even when the other failed.
 * @throws ProbeError of the first probe that failed
 */
async function probeBoth(run: ProbeRun, metrics: Metrics): Promise<CanaryResult> {
  const probe = (name: CanaryProbe, send: Probe) =>
    probeOnce(send, run).then(
      (timing) => ({ name, timing }),
      (error: unknown) => Promise.reject(new ProbeError(name, error)),
    );
  const outcomes = await Promise.allSettled([probe('chat', streamChat), probe('responses', streamResponses)]);
  const timings = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
  for (const { name, timing } of timings) publishTiming(metrics, name, timing);
  const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
  if (failed) throw failed.reason;
  const [chat, responses] = timings.map((t) => t.timing);
  return {
    success: true,
    ...chat,
    responsesLatencyMs: responses.latencyMs,
    ...(responses.timeToFirstTokenMs === undefined
      ? {}
      : { responsesTimeToFirstTokenMs: responses.timeToFirstTokenMs }),
  };
}

function publishTiming(metrics: Metrics, probe: CanaryProbe, timing: StreamTiming): void {
  const names = PROBE_METRICS[probe];
  metrics.addMetric(names.latency, MetricUnit.Milliseconds, timing.latencyMs);
  if (timing.timeToFirstTokenMs !== undefined)
    metrics.addMetric(names.timeToFirstToken, MetricUnit.Milliseconds, timing.timeToFirstTokenMs);
}

/**
 * The OpenAI clients the probes share: one key read for both, and at most one fresh read after a 401
 * (the cached key may have been rotated away), whichever probe sees it first.
 */
class CanaryClients {
  private cached?: Promise<OpenAI>;
  private fresh?: Promise<OpenAI>;

  constructor(private readonly timeoutMs: number) {}

  first(): Promise<OpenAI> {
    return (this.cached ??= this.create(false));
  }

  reread(): Promise<OpenAI> {
    return (this.fresh ??= this.create(true));
  }

  private create(forceFetch: boolean): Promise<OpenAI> {
    return createOpenAIClient({ timeoutMs: this.timeoutMs, maxRetries: 0, forceFetch });
  }
}

/** What a probe run needs besides its call: the shared clients and the logger. */
interface ProbeRun {
  readonly input: Omit<ProbeInput, 'signal'>;
  readonly clients: CanaryClients;
  readonly logger: Logger;
}

/** One probe, retried once with a freshly read key after a 401. */
async function probeOnce(send: Probe, { input, clients, logger }: ProbeRun): Promise<StreamTiming> {
  try {
    return await withTimeout(send, await clients.first(), input);
  } catch (err) {
    if (!isUnauthorized(err)) throw err;
    logger.warn('canary got 401; retrying once with a freshly read key');
    return withTimeout(send, await clients.reread(), input);
  }
}

async function withTimeout(
  send: Probe,
  client: OpenAI,
  input: Omit<ProbeInput, 'signal'>,
): Promise<StreamTiming> {
  const { timeoutMs } = input;
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(new Error(`canary timed out after ${timeoutMs} ms`)), timeoutMs);
  try {
    return await send(client, { ...input, signal: abort.signal });
  } catch (err) {
    if (abort.signal.aborted) throw new CanaryTimeoutError(timeoutMs, err);
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

const timingOf = (started: number, firstToken: number | undefined, now: () => number): StreamTiming => {
  const latencyMs = Math.round(now() - started);
  return firstToken === undefined
    ? { latencyMs }
    : { latencyMs, timeToFirstTokenMs: Math.round(firstToken - started) };
};

/** A streamed chat completion: the first content delta, then a `finish_reason`. */
const streamChat: Probe = async (client, { model, now, signal }) => {
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
    { signal },
  );
  for await (const chunk of stream) {
    const choice = chunk.choices[0];
    if (firstToken === undefined && choice?.delta?.content) firstToken = now();
    if (choice?.finish_reason) finished = true;
  }
  if (!finished) throw new BadResponseError('the stream ended without a finish_reason');
  return timingOf(started, firstToken, now);
};

/**
 * A streamed Responses call, unstored: the first `response.output_text.delta`, then its terminal
 * event (`response.completed`, or `response.incomplete` when the small cap cut a reasoning model).
 */
const streamResponses: Probe = async (client, { model, now, signal }) => {
  const started = now();
  let firstToken: number | undefined;
  let terminal: string | undefined;
  const stream = await client.responses.create(
    {
      model,
      input: CANARY_MESSAGES,
      max_output_tokens: CANARY_MAX_COMPLETION_TOKENS,
      store: false,
      stream: true,
    },
    { signal },
  );
  for await (const event of stream) {
    if (firstToken === undefined && event.type === 'response.output_text.delta' && event.delta)
      firstToken = now();
    if (event.type === 'response.failed')
      throw new BadResponseError(`the response failed: ${event.response.error?.code ?? 'no code'}`);
    if (event.type === 'response.completed' || event.type === 'response.incomplete') terminal = event.type;
  }
  if (!terminal) throw new BadResponseError('the stream ended without response.completed');
  return timingOf(started, firstToken, now);
};

/** A probe's failure, naming the probe. */
class ProbeError extends Error {
  override readonly name = 'ProbeError';
  constructor(
    readonly probe: CanaryProbe,
    override readonly cause: unknown,
  ) {
    super(`the ${probe} probe failed`);
  }
}

/** The call did not finish within `CANARY_TIMEOUT_MS`. */
export class CanaryTimeoutError extends Error {
  override readonly name = 'TimeoutError';
  constructor(timeoutMs: number, cause: unknown) {
    super(`no complete answer within ${timeoutMs} ms`, { cause });
  }
}
