/**
 * The HTTP layer's record of one `/v1` request, from its arrival to the close of its response: the
 * authenticated client, the route, and the model call's result once it is known. When the response
 * closes, the record becomes one metrics entry and one log line; a caller who left mid-call closes the
 * response before the call has settled, so the record waits for the call's result first.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { ClientConfig } from '../../runtime/gateway-config';
import type { CallResult, CallTrace, PipelineDeps } from '../pipeline/model-call';
import { NOTHING_METERED } from '../pipeline/metering';
import type { GatewayMetrics } from '../telemetry/metrics';
import { noAttempts } from '../upstream/client';

export interface RequestRecord {
  /** performance.now() at arrival. */
  readonly started: number;
  readonly method: string;
  client?: ClientConfig;
  /** The pipeline of the config the request arrived under, kept to its end. */
  pipeline?: PipelineDeps;
  /** The route, for the log line. */
  route?: string;
  /** The model call, on model routes. */
  call?: Promise<CallResult>;
  /** Aborts the model call when the caller leaves before its answer is complete. */
  abort?: AbortController;
  /** Shed by the overload check: answered 503 before any work. */
  shed?: boolean;
  /** Disarms the deadline for the request's arrival (once the body is in, or the response closed). */
  disarm?: () => void;
}

/** What the response's close tells the record. */
export interface Closing {
  readonly status: number;
  readonly latencyMs: number;
}

const NO_CALL: CallTrace = {
  metered: NOTHING_METERED,
  budgetExceeded: false,
  attempts: noAttempts(),
};

/** Writes the record's metrics and log line, after its call (if any) has settled. */
export function writeRecord(
  sinks: { readonly metrics: GatewayMetrics; readonly log: FastifyBaseLogger },
  record: RequestRecord,
  closing: Closing,
): void {
  if (record.call === undefined) return emit(sinks, record, closing, NO_CALL);
  void record.call.then((result) => emit(sinks, record, closing, result.trace));
}

function emit(
  sinks: { readonly metrics: GatewayMetrics; readonly log: FastifyBaseLogger },
  record: RequestRecord,
  closing: Closing,
  trace: CallTrace,
): void {
  // A stream the caller left counts as the caller's close (499), even though its status line said 200.
  const status = trace.streamOutcome === 'caller_aborted' ? 499 : closing.status;
  const { metered, attempts } = trace;
  sinks.metrics.record({
    model: trace.model,
    clientId: record.client?.id,
    status,
    latencyMs: closing.latencyMs,
    timeToFirstTokenMs: trace.timeToFirstTokenMs,
    upstreamLatencyMs: trace.upstreamMs,
    promptTokens: metered.promptTokens,
    cachedPromptTokens: metered.cachedPromptTokens,
    completionTokens: metered.completionTokens,
    costNanos: metered.costNanos,
    cache: trace.cache,
    budgetExceeded: trace.budgetExceeded,
    upstream429: attempts.throttled,
    upstreamErrors: attempts.errors,
    shed: record.shed,
  });
  sinks.log.info(
    {
      method: record.method,
      path: record.route ?? 'unknown',
      status,
      client: record.client?.id,
      model: trace.model,
      cache: trace.cache,
      stream: trace.streamOutcome,
      latencyMs: Math.round(closing.latencyMs * 10) / 10,
      ttftMs: trace.timeToFirstTokenMs === undefined ? undefined : Math.round(trace.timeToFirstTokenMs),
      promptTokens: metered.promptTokens,
      cachedPromptTokens: metered.cachedPromptTokens,
      completionTokens: metered.completionTokens,
      upstreamRetries: attempts.throttled + attempts.errors || undefined,
    },
    'request completed',
  );
}
