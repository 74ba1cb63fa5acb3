import { MonthCache, msUntilNextUtcMonth, retryAfterSeconds, utcMonth } from '../../../service/store/month';
import { pickRefusal } from '../../../service/store/snapshot';

const checks = (
  requestsWaitMs: number,
  tokensWaitMs: number,
  clientBudgetExceeded: boolean,
  stageBudgetExceeded: boolean,
) => ({
  requestsWaitMs,
  tokensWaitMs,
  clientBudgetExceeded,
  stageBudgetExceeded,
});

describe('pickRefusal', () => {
  it('admits when nothing waits', () => {
    expect(pickRefusal(checks(0, 0, false, false), 1_000)).toBeUndefined();
  });

  it('names the longest wait, budgets included', () => {
    expect(pickRefusal(checks(1_000, 5_000, false, false), 9e9)).toEqual({ reason: 'tokens', waitMs: 5_000 });
    expect(pickRefusal(checks(1_000, 5_000, true, false), 9e9)).toEqual({
      reason: 'client_budget',
      waitMs: 9e9,
    });
    expect(pickRefusal(checks(0, 0, false, true), 9e9)).toEqual({ reason: 'stage_budget', waitMs: 9e9 });
    // Ten seconds before the month ends, a 12 s token wait outlasts the spent budget.
    expect(pickRefusal(checks(0, 12_000, true, false), 10_000)).toEqual({ reason: 'tokens', waitMs: 12_000 });
  });

  it('prefers requests over tokens, and the client budget over the stage budget, on a tie', () => {
    expect(pickRefusal(checks(3_000, 3_000, false, false), 9e9)).toEqual({
      reason: 'requests',
      waitMs: 3_000,
    });
    expect(pickRefusal(checks(0, 0, true, true), 9e9)).toEqual({ reason: 'client_budget', waitMs: 9e9 });
  });
});

describe('months', () => {
  it('names UTC months and the time to the next one, across a year end', () => {
    const lastSecondOf2026 = Date.UTC(2026, 11, 31, 23, 59, 59);
    expect(utcMonth(lastSecondOf2026)).toBe('2026-12');
    expect(utcMonth(lastSecondOf2026 + 1_000)).toBe('2027-01');
    expect(msUntilNextUtcMonth(lastSecondOf2026)).toBe(1_000);
  });

  it('MonthCache agrees with utcMonth at the edges of a month, in any order', () => {
    const cache = new MonthCache();
    const start = Date.UTC(2026, 1, 1);
    for (const t of [
      start,
      start - 1,
      start + 28 * 86_400_000 - 1,
      start + 28 * 86_400_000,
      start - 1,
      start,
    ]) {
      expect(cache.monthOf(t)).toBe(utcMonth(t));
    }
  });

  it('rounds Retry-After up to whole seconds, at least 1', () => {
    expect(retryAfterSeconds(0)).toBe(1);
    expect(retryAfterSeconds(1_001)).toBe(2);
    expect(retryAfterSeconds(20_000)).toBe(20);
  });
});
