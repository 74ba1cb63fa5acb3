/** What a terminal batch is settled to: its usage at the batch price, else nothing or the worst case. */
import { costNanos } from '../../../runtime/pricing';
import {
  batchCostNanos,
  MAX_POLLED_BATCHES,
  pollWindow,
  TERMINAL_BATCH_STATUSES,
} from '../../../service/pipeline/batch-settlement';
import type { PendingBatch } from '../../../service/store/types';

const MODELS = { 'gpt-4o': { inputUsdPer1M: 2.5, outputUsdPer1M: 10, cachedInputUsdPer1M: 1.25 } };
const PENDING: PendingBatch = {
  clientId: 'app',
  model: 'gpt-4o',
  ticket: {
    clientId: 'app',
    tokens: 0,
    costNanos: 9_999_999,
    month: '2026-06',
    client: { rpm: 1, tpm: 1, budgetNanos: 1 },
    stage: { rpm: 1, tpm: 1, budgetNanos: 1 },
  },
};

describe('batchCostNanos', () => {
  it('prices the reported usage (Responses names, cached share included) at half the model price', () => {
    const usage = {
      input_tokens: 1_000,
      input_tokens_details: { cached_tokens: 400 },
      output_tokens: 300,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: 1_300,
    };
    const half = { inputUsdPer1M: 1.25, outputUsdPer1M: 5, cachedInputUsdPer1M: 0.625 };
    const expected = costNanos(half, {
      prompt_tokens: 1_000,
      completion_tokens: 300,
      prompt_tokens_details: { cached_tokens: 400 },
    });
    expect(batchCostNanos(MODELS, PENDING, { usage, request_counts: { completed: 3 } })).toBe(expected);
    expect(expected).toBe(600 * 1_250 + 400 * 625 + 300 * 5_000);
  });

  it('is nothing for a batch that completed no request and reports no usage (failed at validation, cancelled early)', () => {
    expect(batchCostNanos(MODELS, PENDING, { status: 'failed' })).toBe(0);
    expect(batchCostNanos(MODELS, PENDING, { request_counts: { total: 5, completed: 0, failed: 0 } })).toBe(
      0,
    );
  });

  it('keeps the worst case when requests completed but the usage is missing or unreadable', () => {
    expect(batchCostNanos(MODELS, PENDING, { request_counts: { completed: 2 } })).toBe(9_999_999);
    expect(
      batchCostNanos(MODELS, PENDING, { usage: { input_tokens: -1 }, request_counts: { completed: 2 } }),
    ).toBe(9_999_999);
  });

  it("knows OpenAI's terminal statuses", () => {
    expect([...TERMINAL_BATCH_STATUSES].sort()).toEqual(['cancelled', 'completed', 'expired', 'failed']);
  });
});

describe('pollWindow', () => {
  const ids = Array.from({ length: MAX_POLLED_BATCHES * 2 + 10 }, (_, i) => `batch_${i}`);

  it('reads every pending batch in turns, wrapping around, so none waits forever behind long ones', () => {
    const seen = new Set<string>();
    for (let from = 0; from < ids.length; from += MAX_POLLED_BATCHES) {
      const window = pollWindow(ids, from);
      expect(window).toHaveLength(MAX_POLLED_BATCHES);
      for (const id of window) seen.add(id);
    }
    expect(seen.size).toBe(ids.length);
    expect(pollWindow(ids, MAX_POLLED_BATCHES * 2)[10]).toBe('batch_0');
  });

  it('reads a short list whole', () => {
    expect(pollWindow(['batch_1', 'batch_2'], 7)).toEqual(['batch_1', 'batch_2']);
  });
});
