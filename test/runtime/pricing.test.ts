import {
  costNanos,
  nanosToUsd,
  readResponsesUsage,
  readUsage,
  usdToNanos,
  worstCaseCostNanos,
} from '../../runtime/pricing';

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
    expect(worstCaseCostNanos(mini, { promptTokens: 100, completionTokens: 256 })).toBe(
      100 * 150 + 256 * 600,
    );
  });

  const audio = { inputUsdPer1M: 2.5, outputUsdPer1M: 10, audioInputUsdPer1M: 32, audioOutputUsdPer1M: 64 };

  it('prices audio tokens at the audio rates and the rest of the prompt and completion as text', () => {
    const usage = {
      prompt_tokens: 1_000,
      completion_tokens: 500,
      prompt_tokens_details: { audio_tokens: 400, cached_tokens: 100 },
      completion_tokens_details: { audio_tokens: 300 },
    };
    // 500 text + 100 cached (no cached price: input rate) + 400 audio in; 200 text + 300 audio out.
    expect(costNanos(audio, usage)).toBe(600 * 2_500 + 400 * 32_000 + 200 * 10_000 + 300 * 64_000);
  });

  it('reserves a call that carries audio at the dearer rate on each side', () => {
    const worst = { promptTokens: 100, completionTokens: 50, audio: true };
    expect(worstCaseCostNanos(audio, worst)).toBe(100 * 32_000 + 50 * 64_000);
    expect(worstCaseCostNanos(audio, { ...worst, audio: false })).toBe(100 * 2_500 + 50 * 10_000);
    // No usage split can cost more than the reservation.
    for (const audioIn of [0, 50, 100])
      for (const audioOut of [0, 25, 50]) {
        const usage = {
          prompt_tokens: 100,
          completion_tokens: 50,
          prompt_tokens_details: { audio_tokens: audioIn },
          completion_tokens_details: { audio_tokens: audioOut },
        };
        expect(costNanos(audio, usage)).toBeLessThanOrEqual(worstCaseCostNanos(audio, worst));
      }
  });

  it('converts between dollars and nanos', () => {
    expect(usdToNanos(50)).toBe(50_000_000_000);
    expect(nanosToUsd(1_500_000_000)).toBe(1.5);
  });
});

describe('readUsage', () => {
  it('accepts OpenAI usage objects as they are', () => {
    const usage = {
      prompt_tokens: 12,
      completion_tokens: 5,
      total_tokens: 17,
      prompt_tokens_details: { cached_tokens: 4, audio_tokens: 0 },
    };
    expect(readUsage(usage)).toBe(usage);
    expect(readUsage({ prompt_tokens: 3, total_tokens: 3 })).toEqual({ prompt_tokens: 3, total_tokens: 3 });
    expect(
      readUsage({ prompt_tokens: 3, completion_tokens: null, prompt_tokens_details: null }),
    ).toBeDefined();
  });

  it.each([
    ['null', null],
    ['a string', '12'],
    ['no prompt_tokens', { completion_tokens: 3 }],
    ['a string count', { prompt_tokens: '12' }],
    ['a negative count', { prompt_tokens: -1 }],
    ['a fraction', { prompt_tokens: 1.5 }],
    ['NaN', { prompt_tokens: Number.NaN }],
    ['an infinite completion', { prompt_tokens: 1, completion_tokens: Number.POSITIVE_INFINITY }],
    ['a string completion', { prompt_tokens: 1, completion_tokens: '2' }],
    ['details that are not an object', { prompt_tokens: 1, prompt_tokens_details: 'x' }],
    ['a string cached count', { prompt_tokens: 5, prompt_tokens_details: { cached_tokens: '1' } }],
    ['more cached than prompt tokens', { prompt_tokens: 5, prompt_tokens_details: { cached_tokens: 6 } }],
  ])('refuses %s, so the call settles at its worst case', (_what, value) => {
    expect(readUsage(value)).toBeUndefined();
  });
});

describe('readResponsesUsage', () => {
  it('renames input and output tokens to the chat names, keeping the cached share only', () => {
    expect(
      readResponsesUsage({
        input_tokens: 120,
        input_tokens_details: { cached_tokens: 64 },
        output_tokens: 30,
        output_tokens_details: { reasoning_tokens: 12 },
        total_tokens: 150,
      }),
    ).toEqual({ prompt_tokens: 120, completion_tokens: 30, prompt_tokens_details: { cached_tokens: 64 } });
  });

  it('reads no details when there are none or they are null, and absent or null output tokens as 0', () => {
    expect(readResponsesUsage({ input_tokens: 7, output_tokens: 2 })).toEqual({
      prompt_tokens: 7,
      completion_tokens: 2,
    });
    expect(readResponsesUsage({ input_tokens: 7, output_tokens: 2, input_tokens_details: null })).toEqual({
      prompt_tokens: 7,
      completion_tokens: 2,
    });
    expect(
      readResponsesUsage({
        input_tokens: 7,
        output_tokens: 2,
        input_tokens_details: { cached_tokens: null },
      }),
    ).toEqual({ prompt_tokens: 7, completion_tokens: 2 });
    expect(readResponsesUsage({ input_tokens: 7 })).toEqual({ prompt_tokens: 7, completion_tokens: 0 });
    expect(readResponsesUsage({ input_tokens: 7, output_tokens: null })).toEqual({
      prompt_tokens: 7,
      completion_tokens: 0,
    });
    expect(readResponsesUsage({ input_tokens: 0, output_tokens: 0 })).toEqual({
      prompt_tokens: 0,
      completion_tokens: 0,
    });
  });

  it('accepts as many cached tokens as input tokens', () => {
    expect(
      readResponsesUsage({ input_tokens: 5, input_tokens_details: { cached_tokens: 5 }, output_tokens: 1 }),
    ).toEqual({ prompt_tokens: 5, completion_tokens: 1, prompt_tokens_details: { cached_tokens: 5 } });
  });

  it.each<[string, unknown]>([
    ['null', null],
    ['a number', 12],
    ['a string', '{"input_tokens":1}'],
    ['no input_tokens', { output_tokens: 3 }],
    ['the chat names', { prompt_tokens: 3, completion_tokens: 1 }],
    ['a string input count', { input_tokens: '12', output_tokens: 1 }],
    ['a negative input count', { input_tokens: -1, output_tokens: 1 }],
    ['a fractional output count', { input_tokens: 1, output_tokens: 0.5 }],
    ['an unsafe integer', { input_tokens: 2 ** 53, output_tokens: 1 }],
    ['a string output count', { input_tokens: 1, output_tokens: '2' }],
    ['more cached than input tokens', { input_tokens: 5, input_tokens_details: { cached_tokens: 6 } }],
    ['a negative cached count', { input_tokens: 5, input_tokens_details: { cached_tokens: -1 } }],
    ['a string cached count', { input_tokens: 5, input_tokens_details: { cached_tokens: '1' } }],
  ])('refuses %s, so the call settles at its worst case', (_what, value) => {
    expect(readResponsesUsage(value)).toBeUndefined();
  });

  it('prices what it reads as the chat usage of the same tokens', () => {
    const usage = readResponsesUsage({
      input_tokens: 1000,
      input_tokens_details: { cached_tokens: 400 },
      output_tokens: 500,
    })!;
    expect(costNanos(mini, usage)).toBe(600 * 150 + 400 * 75 + 500 * 600);
  });
});

describe('cache writes and long context', () => {
  // gpt-6.2-sol's price card: writes at 1.25x input, reads at 5%, 2x / 1.5x above 272K input tokens.
  const sol = {
    inputUsdPer1M: 2,
    cachedInputUsdPer1M: 0.1,
    cacheWriteUsdPer1M: 2.5,
    outputUsdPer1M: 10,
    longContext: { aboveInputTokens: 272_000, inputFactor: 2, outputFactor: 1.5 },
  };

  it('prices the written share of the prompt at the cache-write rate, apart from reads and uncached input', () => {
    const usage = {
      prompt_tokens: 3_000,
      completion_tokens: 100,
      prompt_tokens_details: { cached_tokens: 1_000, cache_write_tokens: 1_500 },
    };
    expect(costNanos(sol, usage)).toBe(500 * 2_000 + 1_000 * 100 + 1_500 * 2_500 + 100 * 10_000);
  });

  it('prices writes as input on a model that does not bill them, and never counts more than the prompt', () => {
    const usage = { prompt_tokens: 10, prompt_tokens_details: { cached_tokens: 6, cache_write_tokens: 9 } };
    // 6 cached at the cached rate, the other 4 written (at most what is left), at the input rate.
    expect(costNanos(mini, usage)).toBe(6 * 75 + 4 * 150);
  });

  it('bills the whole request at the long-context rates once its input passes the threshold', () => {
    const at = { prompt_tokens: 272_000, completion_tokens: 1_000 };
    const above = { prompt_tokens: 272_001, completion_tokens: 1_000 };
    expect(costNanos(sol, at)).toBe(272_000 * 2_000 + 1_000 * 10_000);
    expect(costNanos(sol, above)).toBe(272_001 * 2_000 * 2 + 1_000 * 10_000 * 1.5);
    const cachedAbove = {
      ...above,
      prompt_tokens_details: { cached_tokens: 200_000, cache_write_tokens: 1 },
    };
    expect(costNanos(sol, cachedAbove)).toBe(
      (72_000 * 2_000 + 200_000 * 100 + 1 * 2_500) * 2 + 1_000 * 10_000 * 1.5,
    );
  });

  it('reserves every prompt token as a cache write when writes cost more than input', () => {
    const worst = { promptTokens: 1_000, completionTokens: 100 };
    expect(worstCaseCostNanos(sol, worst)).toBe(1_000 * 2_500 + 100 * 10_000);
    expect(worstCaseCostNanos(mini, worst)).toBe(1_000 * 150 + 100 * 600);
  });

  it('never settles above the reservation, whatever split of reads and writes upstream reports', () => {
    for (const promptTokens of [1_000, 272_000, 300_000]) {
      const worst = { promptTokens, completionTokens: 500 };
      for (const billed of [promptTokens, Math.floor(promptTokens / 2)])
        for (const cached of [0, Math.floor(billed / 3)])
          for (const written of [0, billed - cached]) {
            const usage = {
              prompt_tokens: billed,
              completion_tokens: 500,
              prompt_tokens_details: { cached_tokens: cached, cache_write_tokens: written },
            };
            expect(costNanos(sol, usage)).toBeLessThanOrEqual(worstCaseCostNanos(sol, worst));
          }
    }
  });

  it('reads cache_write_tokens from chat and Responses usage, and refuses more written than prompt tokens', () => {
    expect(
      readResponsesUsage({
        input_tokens: 100,
        input_tokens_details: { cached_tokens: 20, cache_write_tokens: 70 },
        output_tokens: 5,
      }),
    ).toEqual({
      prompt_tokens: 100,
      completion_tokens: 5,
      prompt_tokens_details: { cached_tokens: 20, cache_write_tokens: 70 },
    });
    expect(readUsage({ prompt_tokens: 5, prompt_tokens_details: { cache_write_tokens: 6 } })).toBeUndefined();
    expect(
      readResponsesUsage({ input_tokens: 5, input_tokens_details: { cache_write_tokens: '1' } }),
    ).toBeUndefined();
  });
});
