/**
 * The price table is read by every stage: each entry must pass the gateway's own validation and
 * follow OpenAI's published pricing rules, so a typo in a new model's row fails here, not on a bill.
 */
import { parseGatewayConfig, PRIORITY_PRICE_FACTOR, type ModelPrice } from '../../../runtime/gateway-config';
import { OPENAI_PRICES } from '../../../lib/config/project';
import { testConfigDocument } from '../../support/gateway-harness';

const entries = Object.entries(OPENAI_PRICES) as [string, ModelPrice][];

describe('OPENAI_PRICES', () => {
  it('passes the gateway config validation as it is', () => {
    const config = parseGatewayConfig(testConfigDocument({ models: OPENAI_PRICES }));
    for (const [model, price] of entries) expect(config.models[model]).toEqual(price);
  });

  it.each(entries)(
    '%s prices cached input at or below input, and cache writes at or above it',
    (_m, price) => {
      expect(price.cachedInputUsdPer1M ?? price.inputUsdPer1M).toBeLessThanOrEqual(price.inputUsdPer1M);
      expect(price.cacheWriteUsdPer1M ?? price.inputUsdPer1M).toBeGreaterThanOrEqual(price.inputUsdPer1M);
    },
  );

  it('has no model whose priority tier costs more than the default factor a model without one gets', () => {
    const factors = entries.map(([, p]) => p.serviceTierFactors?.priority ?? PRIORITY_PRICE_FACTOR);
    expect(Math.max(...factors)).toBe(PRIORITY_PRICE_FACTOR);
  });

  it('knows the current families: gpt-6.x, gpt-5.x with mini and nano, gpt-4.1, o3 and o4-mini, embeddings', () => {
    for (const model of [
      'gpt-6.2-sol',
      'gpt-6-luna',
      'gpt-5.5',
      'gpt-5.4-mini',
      'gpt-5-nano',
      'gpt-4.1',
      'gpt-4.1-nano',
      'o3',
      'o4-mini',
      'text-embedding-3-large',
    ])
      expect(OPENAI_PRICES).toHaveProperty([model]);
  });
});
