/**
 * Admission: refuses up front a call larger than a whole TPM limit (400 `request_too_large`), then
 * reserves RPM, TPM and the worst-case cost against both budgets in one store round trip that also
 * reads the cache. A refusal is the caller's error: 429 `rate_limit_exceeded` for RPM/TPM, 429
 * `insufficient_quota` for a spent budget, 503 when the store refuses under the `closed` fallback;
 * every answer carries OpenAI's `x-ratelimit-*` headers.
 */
import { stageTokenBurst, type ClientConfig, type GatewayConfig } from '../../runtime/gateway-config';
import { usdToNanos, worstCaseCostNanos } from '../../runtime/pricing';
import type { PreparedCall } from '../endpoints';
import { GatewayError, quotaExceeded, rateLimited, tokensExceedLimit, unavailable } from '../errors';
import { rateLimitHeaders } from '../http/rate-limit-headers';
import type { GatewayStore, RejectReason, ScopeLimits } from '../store/types';
import { NOTHING_METERED, priceOf } from './metering';
import { Reservation } from './reservation';

/** The limits of the stage and of each client, in the store's units, built once per config. */
export class AdmissionLimits {
  readonly stage: ScopeLimits;
  /** The most tokens one request may reserve at the stage scope: its TPM share of one burst. */
  readonly stageTokenBurst: number;
  private readonly clients = new Map<string, ScopeLimits>();

  constructor(readonly config: GatewayConfig) {
    const { rateLimits } = config;
    this.stage = {
      rpm: rateLimits.rpm,
      tpm: rateLimits.tpm,
      budgetNanos: usdToNanos(config.budget.monthlyUsd),
      burstMs: rateLimits.burstSeconds * 1000,
    };
    this.stageTokenBurst = stageTokenBurst(rateLimits);
    for (const c of config.clients) {
      this.clients.set(c.id, { rpm: c.rpm, tpm: c.tpm, budgetNanos: usdToNanos(c.monthlyBudgetUsd) });
    }
  }

  client(id: string): ScopeLimits {
    return this.clients.get(id)!;
  }
}

export interface AdmitInput {
  readonly limits: AdmissionLimits;
  readonly store: GatewayStore;
  readonly client: ClientConfig;
  readonly prepared: PreparedCall;
  /** The cache key to read in the same round trip; absent when the call is not cacheable. */
  readonly cacheKey?: string;
}

/** The answer's headers (`x-ratelimit-*`) are a fresh object per call: later steps add to them. */
export type Admitted =
  | { readonly kind: 'hit'; readonly cached: string; readonly headers: Record<string, string> }
  | {
      readonly kind: 'reserved';
      readonly reservation: Reservation;
      readonly headers: Record<string, string>;
      /** The store answered from its fallback: the cache was not read. */
      readonly degraded: boolean;
    };

/** @throws GatewayError: 400 when the call can never fit, 429 or 503 when the store refuses it */
export async function admit(input: AdmitInput): Promise<Admitted> {
  const { limits, client, prepared } = input;
  const clientLimits = limits.client(client.id);
  const tokens = prepared.promptTokens + prepared.completionTokens;
  checkFits(limits, clientLimits, prepared, tokens);
  const decision = await input.store.admit({
    clientId: client.id,
    client: clientLimits,
    stage: limits.stage,
    tokens,
    costNanos: worstCaseCostNanos(priceOf(limits.config.models, prepared), prepared),
    ...(input.cacheKey === undefined ? {} : { cacheKey: input.cacheKey }),
  });
  const headers = rateLimitHeaders(decision.rateLimit);
  if (!decision.ok) throw refusal(decision.reason, decision.retryAfterSeconds).withHeaders(headers);
  if (decision.cached !== null) return { kind: 'hit', cached: decision.cached, headers };
  return {
    kind: 'reserved',
    reservation: new Reservation(input.store, decision.ticket),
    headers,
    degraded: decision.degraded,
  };
}

/** A reservation larger than the client's whole TPM, or than the stage allows in one burst, never fits. */
function checkFits(
  limits: AdmissionLimits,
  client: ScopeLimits,
  prepared: PreparedCall,
  tokens: number,
): void {
  if (tokens > client.tpm)
    throw tokensExceedLimit(prepared.requestedModel, 'application', client.tpm, tokens);
  if (tokens > limits.stageTokenBurst) {
    throw tokensExceedLimit(prepared.requestedModel, 'gateway', limits.stageTokenBurst, tokens);
  }
}

/** The caller's error for a store refusal. */
export function refusal(reason: RejectReason, retryAfterSeconds: number): GatewayError {
  const retryAfter = Math.max(1, Math.ceil(retryAfterSeconds));
  switch (reason) {
    case 'requests':
      return rateLimited('requests', retryAfter, 'application or stage limit');
    case 'tokens':
      return rateLimited('tokens', retryAfter, 'application or stage limit');
    case 'client_budget':
      return quotaExceeded('application', retryAfter);
    case 'stage_budget':
      return quotaExceeded('gateway', retryAfter);
    case 'unavailable':
      return unavailable('Rate limit and budget state is unavailable; the request was not sent.', retryAfter);
  }
}

/**
 * Admission of a call that costs no tokens (retrieve, delete, list, count tokens): it counts against
 * both RPM limits only, so reading stored objects cannot flood upstream either.
 * @returns the answer's `x-ratelimit-*` headers @throws GatewayError as `admit` does
 */
export async function admitRequest(
  input: Pick<AdmitInput, 'limits' | 'store' | 'client'>,
): Promise<Record<string, string>> {
  const decision = await input.store.admit({
    clientId: input.client.id,
    client: input.limits.client(input.client.id),
    stage: input.limits.stage,
    tokens: 0,
    costNanos: 0,
  });
  const headers = rateLimitHeaders(decision.rateLimit);
  if (!decision.ok) throw refusal(decision.reason, decision.retryAfterSeconds).withHeaders(headers);
  return headers;
}

/** A reservation of money only, and the answer's `x-ratelimit-*` headers. */
export interface ReservedCost {
  readonly reservation: Reservation;
  readonly headers: Record<string, string>;
}

/**
 * Admission of work that bills later and outside the live rate limits (a batch): one request against
 * both RPM limits and `costNanos` against both budgets, no tokens. The reservation must outlive this
 * replica, so a decision from the fallback (Redis unavailable) is given back and refused with 503.
 * @throws GatewayError as `admit` does
 */
export async function reserveCost(
  input: Pick<AdmitInput, 'limits' | 'store' | 'client'> & { readonly costNanos: number },
): Promise<ReservedCost> {
  const decision = await input.store.admit({
    clientId: input.client.id,
    client: input.limits.client(input.client.id),
    stage: input.limits.stage,
    tokens: 0,
    costNanos: input.costNanos,
  });
  const headers = rateLimitHeaders(decision.rateLimit);
  if (!decision.ok) throw refusal(decision.reason, decision.retryAfterSeconds).withHeaders(headers);
  const reservation = new Reservation(input.store, decision.ticket);
  if (decision.degraded) {
    reservation.settle({ metered: NOTHING_METERED });
    throw refusal('unavailable', 1).withHeaders(headers);
  }
  return { reservation, headers };
}
