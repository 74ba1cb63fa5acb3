/** Token and cost accounting from upstream `usage`. */
import { costNanos, type TokenUsage } from '../runtime/pricing';
import type { ModelPrice } from '../runtime/gateway-config';

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

/**
 * Finds the `usage` object in a JSON response body without parsing the whole body (embeddings bodies
 * can be large): the last `"usage":` member, read up to its matching brace. Usage holds only numbers and
 * nested objects, so counting braces is enough.
 */
export function extractUsage(body: string): TokenUsage | undefined {
  const at = body.lastIndexOf('"usage"');
  if (at === -1) return undefined;
  const open = body.indexOf('{', at);
  if (open === -1) return undefined;
  let depth = 0;
  for (let i = open; i < body.length; i++) {
    const c = body.charCodeAt(i);
    if (c === 123) depth++;
    else if (c === 125 && --depth === 0) {
      try {
        const usage = JSON.parse(body.slice(open, i + 1)) as TokenUsage;
        return typeof usage.prompt_tokens === 'number' ? usage : undefined;
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}
