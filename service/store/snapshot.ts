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

export function ticketFor(request: AdmissionRequest, month: string): Ticket {
  return {
    clientId: request.clientId,
    tokens: request.tokens,
    costNanos: request.costNanos,
    month,
    client: request.client,
    stage: request.stage,
  };
}

/**
 * Checks in the order a refusal names them when two need the same wait. A refusal names the check
 * with the longest wait, so that a retry after `Retry-After` is not refused again by another check.
 */
export const REJECT_ORDER: readonly RejectReason[] = ['requests', 'tokens', 'client_budget', 'stage_budget'];
