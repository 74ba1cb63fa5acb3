import { costNanos, nanosToUsd, usdToNanos, worstCaseCostNanos } from '../../runtime/pricing';

const mini = { inputUsdPer1M: 0.15, outputUsdPer1M: 0.6, cachedInputUsdPer1M: 0.075 };

describe('pricing', () => {
  it('prices prompt and completion tokens in nano-dollars', () => {
    // 1,000 x 0.15 / 1e6 USD = 150,000 nanos; 500 x 0.6 / 1e6 USD = 300,000 nanos
    expect(costNanos(mini, { prompt_tokens: 1000, completion_tokens: 500 })).toBe(450_000);
  });

  it('prices cached prompt tokens at the cached rate', () => {
    const usage = {
      prompt_tokens: 1000,
      completion_tokens: 0,
      prompt_tokens_details: { cached_tokens: 400 },
    };
    expect(costNanos(mini, usage)).toBe(600 * 150 + 400 * 75);
  });

  it('falls back to the input price when no cached price is set, and never counts more cached than prompt tokens', () => {
    const price = { inputUsdPer1M: 2, outputUsdPer1M: 8 };
    expect(costNanos(price, { prompt_tokens: 10, prompt_tokens_details: { cached_tokens: 50 } })).toBe(
      20_000,
    );
  });

  it('rounds fractions of a nano-dollar up so tiny calls still cost something', () => {
    expect(costNanos({ inputUsdPer1M: 0.02, outputUsdPer1M: 0 }, { prompt_tokens: 1 })).toBe(20);
    expect(costNanos({ inputUsdPer1M: 0.0001, outputUsdPer1M: 0 }, { prompt_tokens: 1 })).toBe(1);
  });

  it('computes the worst case as every token uncached', () => {
    expect(worstCaseCostNanos(mini, 100, 256)).toBe(100 * 150 + 256 * 600);
  });

  it('converts between dollars and nanos', () => {
    expect(usdToNanos(50)).toBe(50_000_000_000);
    expect(nanosToUsd(1_500_000_000)).toBe(1.5);
  });
});
