/** Token and cost accounting of one call, from upstream `usage` or from the prepared estimate. */
import { costNanos, worstCaseUsage, type CallPrice, type TokenUsage } from '../../runtime/pricing';
import type { GatewayConfig, ModelPrice } from '../../runtime/gateway-config';
import type { PreparedCall } from '../endpoints';

export interface Metered {
  readonly promptTokens: number;
  /** The share of `promptTokens` upstream read from its prompt cache (`cached_tokens`). */
  readonly cachedPromptTokens: number;
  readonly completionTokens: number;
  readonly costNanos: number;
}

export const NOTHING_METERED: Metered = {
  promptTokens: 0,
  cachedPromptTokens: 0,
  completionTokens: 0,
  costNanos: 0,
};

export function meter(price: CallPrice, usage: TokenUsage): Metered {
  return {
    promptTokens: usage.prompt_tokens,
    cachedPromptTokens: Math.min(usage.prompt_tokens_details?.cached_tokens ?? 0, usage.prompt_tokens),
    completionTokens: usage.completion_tokens ?? 0,
    costNanos: costNanos(price, usage),
  };
}

/**
 * What a call upstream may have billed without reporting usage (no usage, unreadable usage, cut off,
 * abandoned, timed out): its worst case, the same figure admission reserved.
 */
export function meterWorstCase(price: CallPrice, prepared: PreparedCall): Metered {
  return meter(price, worstCaseUsage(price, prepared));
}

/** `metered` plus `times` x `extra`. */
export function addMetered(metered: Metered, extra: Metered, times: number): Metered {
  if (times === 0) return metered;
  return {
    promptTokens: metered.promptTokens + extra.promptTokens * times,
    cachedPromptTokens: metered.cachedPromptTokens + extra.cachedPromptTokens * times,
    completionTokens: metered.completionTokens + extra.completionTokens * times,
    costNanos: metered.costNanos + extra.costNanos * times,
  };
}

/** The fields of a model price that are money (the rest, such as `imageTokens`, are token counts). */
const PRICE_FIELDS = [
  'inputUsdPer1M',
  'outputUsdPer1M',
  'cachedInputUsdPer1M',
  'audioInputUsdPer1M',
  'audioOutputUsdPer1M',
  'cacheWriteUsdPer1M',
  'imageInputUsdPer1M',
  'imageOutputUsdPer1M',
  'usdPerImage',
  'usdPer1MCharacters',
  'usdPerMinute',
] as const;

/**
 * The price a prepared call is reserved and metered at: its model's (with the per-image price of its
 * size and quality, for models billed by the image), times its tier's factor.
 */
export function priceOf(
  models: GatewayConfig['models'],
  prepared: Pick<PreparedCall, 'model' | 'priceFactor' | 'imageVariant'>,
): CallPrice {
  const model: ModelPrice = models[prepared.model];
  const variant = prepared.imageVariant;
  const price: CallPrice =
    variant === undefined ? model : { ...model, usdPerImage: model.imageUsd?.[variant] ?? 0 };
  const factor = prepared.priceFactor ?? 1;
  if (factor === 1) return price;
  const scaled: Record<string, unknown> = { ...price };
  for (const field of PRICE_FIELDS) {
    const usd = price[field];
    if (usd !== undefined) scaled[field] = usd * factor;
  }
  return scaled as unknown as CallPrice;
}
