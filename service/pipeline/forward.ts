/**
 * The upstream part of an admitted call: moderation when the stage asks for it and the endpoint has
 * text to check, then the call itself, relayed as JSON or SSE by the endpoint's spec. It never throws:
 * it returns what the call is charged, and the error the caller gets when nothing was sent yet.
 */
import type { GatewayConfig, ModelPrice } from '../../runtime/gateway-config';
import type { PreparedCall } from '../endpoints';
import type { UpstreamClient, AttemptCounts } from '../upstream/client';
import { mapUpstreamError } from '../upstream/errors';
import type { SingleFlight } from './cache';
import type { CallerResponse, ResponseHeaders } from './caller-response';
import { meterEstimate, NOTHING_METERED } from './metering';
import { moderate } from './moderate';
import type { Charge } from './reservation';
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
  readonly price: ModelPrice;
  /** The body to send (serialised once, canonical when cacheable). */
  readonly payload: string;
  /** Write the complete answer to the cache under this key (a miss). */
  readonly cacheKey?: string;
  /** Rate-limit and cache headers of the answer. */
  readonly headers: ResponseHeaders;
  readonly response: CallerResponse;
  readonly attempts: AttemptCounts;
  /** When the request arrived (performance.now), for time to first token. */
  readonly started: number;
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
  const { prepared, response } = input;
  try {
    const moderationText = deps.config.moderation.enabled
      ? prepared.spec.moderationInput?.(prepared.body)
      : undefined;
    if (moderationText !== undefined) {
      await moderate({
        upstream: deps.upstream,
        config: deps.config.moderation,
        text: moderationText,
        signal: response.signal,
        attempts: input.attempts,
      });
    }
    return prepared.stream ? await relayStream(deps, input) : await relayJson(deps, input);
  } catch (err) {
    // A caller who left mid-call is charged the prompt; a call that failed upstream, nothing.
    const metered = response.signal.aborted ? meterEstimate(input.price, prepared, 0) : NOTHING_METERED;
    return { charge: { metered }, error: mapUpstreamError(err) };
  }
}
