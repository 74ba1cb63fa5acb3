/**
 * Admission: refuses up front a request larger than a whole TPM limit (400 `request_too_large`),
 * builds the store request (token and worst-case cost reservation, cache key) and maps a refusal to
 * the caller's error: 429 `rate_limit_exceeded` for RPM/TPM, 429 `insufficient_quota` for a
 * spent budget, 503 when the store refuses under the `closed` fallback.
 */
import type { ClientConfig, GatewayConfig, ModelPrice } from '../runtime/gateway-config';
import { usdToNanos, worstCaseCostNanos } from '../runtime/pricing';
import { GatewayError, quotaExceeded, rateLimited, tokensExceedLimit, unavailable } from './errors';
import type { PreparedRequest } from './policy';
import type { AdmissionRequest, RejectReason, ScopeLimits } from './store/types';

export class Admission {
  private readonly stageLimits: ScopeLimits;
  /** The most tokens one request may reserve at the stage scope: its TPM share of one burst. */
  private readonly stageTokenBurst: number;
  private readonly clientLimits = new Map<string, ScopeLimits>();

  constructor(private readonly config: GatewayConfig) {
    this.stageLimits = {
      rpm: config.rateLimits.rpm,
      tpm: config.rateLimits.tpm,
      budgetNanos: usdToNanos(config.budget.monthlyUsd),
      burstMs: config.rateLimits.burstSeconds * 1000,
    };
    this.stageTokenBurst = Math.floor((config.rateLimits.tpm * config.rateLimits.burstSeconds) / 60);
    for (const c of config.clients) {
      this.clientLimits.set(c.id, { rpm: c.rpm, tpm: c.tpm, budgetNanos: usdToNanos(c.monthlyBudgetUsd) });
    }
  }

  price(model: string): ModelPrice {
    return this.config.models[model];
  }

  /**
   * Refuses a request that could never be admitted: its token reservation (prompt estimate + max
   * tokens x n) exceeds the client's whole TPM, or what the stage's TPM allows in one burst. Throws a
   * 400 `request_too_large`.
   */
  checkFits(client: ClientConfig, prepared: PreparedRequest): void {
    const tokens = prepared.promptTokens + prepared.completionTokens;
    const clientTpm = this.clientLimits.get(client.id)!.tpm;
    if (tokens > clientTpm)
      throw tokensExceedLimit(prepared.requestedModel, 'application', clientTpm, tokens);
    if (tokens > this.stageTokenBurst) {
      throw tokensExceedLimit(prepared.requestedModel, 'gateway', this.stageTokenBurst, tokens);
    }
  }

  request(client: ClientConfig, prepared: PreparedRequest, cacheKey: string | undefined): AdmissionRequest {
    return {
      clientId: client.id,
      client: this.clientLimits.get(client.id)!,
      stage: this.stageLimits,
      tokens: prepared.promptTokens + prepared.completionTokens,
      costNanos: worstCaseCostNanos(
        this.price(prepared.model),
        prepared.promptTokens,
        prepared.completionTokens,
      ),
      ...(cacheKey === undefined ? {} : { cacheKey }),
    };
  }
}

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
