/**
 * The upstream part of an admitted call: moderation when the stage asks for it and the endpoint has
 * text to check, then the call itself, relayed as JSON or SSE by the endpoint's spec. It never throws:
 * it returns what the call is charged, and the error the caller gets when nothing was sent yet.
 */
import type { GatewayConfig } from '../../runtime/gateway-config';
import type { CallPrice } from '../../runtime/pricing';
import type { PreparedCall } from '../endpoints';
import { noAttempts, type AttemptCounts, type UpstreamClient } from '../upstream/client';
import { mapUpstreamError } from '../upstream/errors';
import type { SingleFlight } from './cache';
import type { CallerResponse, ResponseHeaders } from './caller-response';
import { NOTHING_METERED } from './metering';
import { moderate } from './moderate';
import type { CreatedObjectRecorder } from './objects';
import type { Charge } from './reservation';
import { relayBinary } from './relay-binary';
import { relayJson } from './relay-json';
import { relayStream } from './relay-stream';

/** The parts of the gateway the upstream steps use. */
export interface UpstreamDeps {
  readonly config: GatewayConfig;
  readonly upstream: UpstreamClient;
  readonly flights: SingleFlight;
  /** Interval of `: keep-alive` comments while a stream waits for upstream, ms. */
  readonly sseKeepAliveMs: number;
}

/** One admitted call on its way upstream. */
export interface ForwardInput {
  readonly prepared: PreparedCall;
  readonly price: CallPrice;
  /** The body to send (serialised once, canonical when cacheable), or an encoded multipart form. */
  readonly payload: string | Buffer;
  /** The payload's content type when it is not JSON. @default JSON */
  readonly contentType?: string;
  /** Write the complete answer to the cache under this key (a miss). */
  readonly cacheKey?: string;
  /** Rate-limit and cache headers of the answer. */
  readonly headers: ResponseHeaders;
  readonly response: CallerResponse;
  readonly attempts: AttemptCounts;
  /** When the request arrived (performance.now), for time to first token. */
  readonly started: number;
  /** Records the object the call creates, before its id reaches the caller. @default none created */
  readonly onCreated?: CreatedObjectRecorder;
  /**
   * Hands the reservation of a background response that is not done yet to the background settler,
   * before its id reaches the caller (true when held). @default the call is not a background one
   */
  readonly onBackground?: (id: string) => Promise<boolean>;
}

export type StreamOutcome = 'complete' | 'upstream_failed' | 'caller_aborted';

/** What the upstream steps report. */
export interface Forwarded {
  readonly charge: Charge;
  /** Time to the last attempt's response headers, ms. */
  readonly upstreamMs?: number;
  readonly timeToFirstTokenMs?: number;
  readonly streamOutcome?: StreamOutcome;
  /** Answered from an identical call in flight, as a cache hit would be. */
  readonly sharedFlight?: boolean;
  /** Thrown before any answer went out: the caller's error. */
  readonly error?: unknown;
}

export const NOTHING_CHARGED: Charge = { metered: NOTHING_METERED };

export async function forward(deps: UpstreamDeps, input: ForwardInput): Promise<Forwarded> {
  try {
    await moderateIfEnabled(deps, input);
    if (input.prepared.binaryAnswer) return await relayBinary(deps, input);
    return input.prepared.stream ? await relayStream(deps, input) : await relayJson(deps, input);
  } catch (err) {
    // What upstream may have billed for attempts without an answer is added from `attempts`.
    return { charge: NOTHING_CHARGED, error: mapUpstreamError(err) };
  }
}

async function moderateIfEnabled(deps: UpstreamDeps, input: ForwardInput): Promise<void> {
  const { prepared } = input;
  const text = deps.config.moderation.enabled ? prepared.spec.moderationInput?.(prepared.body) : undefined;
  if (text === undefined) return;
  // Moderation is free: its failures count for metrics, never as a model call upstream may bill.
  const attempts = noAttempts();
  try {
    await moderate({
      upstream: deps.upstream,
      config: deps.config.moderation,
      text,
      signal: input.response.signal,
      attempts,
    });
  } finally {
    input.attempts.throttled += attempts.throttled;
    input.attempts.errors += attempts.errors;
  }
}
