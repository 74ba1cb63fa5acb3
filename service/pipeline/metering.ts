/** Token and cost accounting of one call, from upstream `usage` or from the prepared estimate. */
import { costNanos, type TokenUsage } from '../../runtime/pricing';
import type { ModelPrice } from '../../runtime/gateway-config';
import type { PreparedCall } from '../endpoints';

export interface Metered {
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly costNanos: number;
}

export const NOTHING_METERED: Metered = { promptTokens: 0, completionTokens: 0, costNanos: 0 };

export function meter(price: ModelPrice, usage: TokenUsage): Metered {
  return {
    promptTokens: usage.prompt_tokens,
    completionTokens: usage.completion_tokens ?? 0,
    costNanos: costNanos(price, usage),
  };
}

/** What a call without `usage` is assumed to have used: the prompt estimate and `completionTokens`. */
export function meterEstimate(price: ModelPrice, prepared: PreparedCall, completionTokens: number): Metered {
  return meter(price, { prompt_tokens: prepared.promptTokens, completion_tokens: completionTokens });
}
