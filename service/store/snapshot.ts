import type { AdmissionRequest, RateLimitSnapshot, RejectReason, Ticket } from './types';

/** The snapshot of a client with nothing reserved: full limits, nothing to wait for. */
export function fullSnapshot(request: AdmissionRequest): RateLimitSnapshot {
  return {
    limitRequests: request.client.rpm,
    remainingRequests: request.client.rpm,
    limitTokens: request.client.tpm,
    remainingTokens: request.client.tpm,
    resetRequestsMs: 0,
    resetTokensMs: 0,
  };
}

/**
 * The ticket of an admitted request. A cache hit (`hit`) reserved only the request, no tokens and no
 * cost, so its ticket holds zeros and settling it is a no-op.
 */
export function ticketFor(request: AdmissionRequest, month: string, hit = false): Ticket {
  return {
    clientId: request.clientId,
    tokens: hit ? 0 : request.tokens,
    costNanos: hit ? 0 : request.costNanos,
    month,
    client: request.client,
    stage: request.stage,
  };
}

/** Why an admission was refused and how long until it can succeed. */
export interface Refusal {
  readonly reason: RejectReason;
  readonly waitMs: number;
}

/** What each check of one admission found. */
export interface AdmissionChecks {
  /** Wait until the request fits both RPM scopes, ms (0 = fits now). */
  readonly requestsWaitMs: number;
  /** Wait until the tokens fit both TPM scopes, ms. */
  readonly tokensWaitMs: number;
  readonly clientBudgetExceeded: boolean;
  readonly stageBudgetExceeded: boolean;
}

/**
 * Names the failing check with the longest wait, so that a retry after `Retry-After` is not refused
 * again by another check; on a tie the first of requests, tokens, client budget, stage budget.
 * @returns undefined when every wait is 0 (admit)
 */
export function pickRefusal(checks: AdmissionChecks, msUntilNextMonth: number): Refusal | undefined {
  const { requestsWaitMs, tokensWaitMs, clientBudgetExceeded, stageBudgetExceeded } = checks;
  let reason: RejectReason | undefined;
  let waitMs = 0;
  if (requestsWaitMs > waitMs) [reason, waitMs] = ['requests', requestsWaitMs];
  if (tokensWaitMs > waitMs) [reason, waitMs] = ['tokens', tokensWaitMs];
  if (clientBudgetExceeded && msUntilNextMonth > waitMs)
    [reason, waitMs] = ['client_budget', msUntilNextMonth];
  if (stageBudgetExceeded && msUntilNextMonth > waitMs) [reason, waitMs] = ['stage_budget', msUntilNextMonth];
  if (reason !== undefined) return { reason, waitMs };
  return undefined;
}
