/** What a terminal batch is settled to: its usage at the batch price, else nothing or the worst case. */
import { costNanos } from '../../../runtime/pricing';
import { batchCostNanos, TERMINAL_BATCH_STATUSES } from '../../../service/pipeline/batch-settlement';
import type { PendingBatch } from '../../../service/store/types';

const MODELS = { 'gpt-4o': { inputUsdPer1M: 2.5, outputUsdPer1M: 10, cachedInputUsdPer1M: 1.25 } };
const PENDING: PendingBatch = {
  id: 'batch_1',
  clientId: 'app',
  heldAt: 1,
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
