import type { ModelPrice } from './gateway-config';

/**
 * Money is counted in integer nano-dollars (1e-9 USD) so that Redis can add it atomically with
 * INCRBY and a 10-token call to a cheap model still costs something. 2^53 nano-dollars is about
 * 9 million USD, far above any monthly budget this project handles.
 */
export const NANOS_PER_USD = 1_000_000_000;

export const usdToNanos = (usd: number): number => Math.round(usd * NANOS_PER_USD);
export const nanosToUsd = (nanos: number): number => nanos / NANOS_PER_USD;

/** The token counts OpenAI reports in `usage` (chat and embeddings use the same names). */
export interface TokenUsage {
  readonly prompt_tokens: number;
  readonly completion_tokens?: number;
  readonly prompt_tokens_details?: { readonly cached_tokens?: number } | null;
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/**
 * A `usage` object from an upstream answer, validated: token counts are non-negative integers and the
 * cached share is no larger than the prompt. Anything else is unreadable (undefined), and the caller
 * settles at the worst case: a malformed usage must never turn spend counters into NaN.
 */
export function readUsage(value: unknown): TokenUsage | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const u = value as Record<string, unknown>;
  if (!isCount(u.prompt_tokens)) return undefined;
  if (u.completion_tokens !== undefined && u.completion_tokens !== null && !isCount(u.completion_tokens)) {
    return undefined;
  }
  const details = u.prompt_tokens_details;
  if (details !== undefined && details !== null) {
    if (typeof details !== 'object') return undefined;
    const c = (details as Record<string, unknown>).cached_tokens;
    if (c !== undefined && c !== null && !isCount(c)) return undefined;
    if (typeof c === 'number' && c > u.prompt_tokens) return undefined;
  }
  return value as TokenUsage;
}

/** Cost in nano-dollars of the tokens a response reports, rounded up. */
export function costNanos(price: ModelPrice, usage: TokenUsage): number {
  const cached = Math.min(usage.prompt_tokens_details?.cached_tokens ?? 0, usage.prompt_tokens);
  const uncached = usage.prompt_tokens - cached;
  // USD per 1M tokens is exactly nano-dollars per 1e-3 token: 1e9 nanos / 1e6 tokens = 1e3.
  const nanos =
    (uncached * price.inputUsdPer1M +
      cached * (price.cachedInputUsdPer1M ?? price.inputUsdPer1M) +
      (usage.completion_tokens ?? 0) * price.outputUsdPer1M) *
    1_000;
  return Math.ceil(nanos);
}

/** Worst-case cost in nano-dollars of a request before it runs: every prompt token uncached, every completion token used. */
export function worstCaseCostNanos(
  price: ModelPrice,
  promptTokens: number,
  completionTokens: number,
): number {
  return costNanos(price, { prompt_tokens: promptTokens, completion_tokens: completionTokens });
}
