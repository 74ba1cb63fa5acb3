/** Budgets are counted per UTC calendar month (runtime/clock); these helpers say when it ends. */
import { nextUtcMonthStart, utcMonth, utcMonthStart } from '../../runtime/clock';

export { utcMonth };

/** Milliseconds from `epochMs` to the first instant of the next UTC month. */
export function msUntilNextUtcMonth(epochMs: number): number {
  return nextUtcMonthStart(epochMs) - epochMs;
}

/** Whole seconds to wait for `ms` to pass, at least 1 (the value of a `Retry-After` header). */
export function retryAfterSeconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}

/**
 * `utcMonth` for a clock read on every request: remembers the current month and its bounds so a
 * call costs two comparisons, not a Date.
 */
export class MonthCache {
  private month = '';
  private start = 0;
  private end = 0;

  /** The UTC month of `epochMs`, `YYYY-MM`. */
  monthOf(epochMs: number): string {
    if (epochMs < this.start || epochMs >= this.end) {
      this.month = utcMonth(epochMs);
      this.start = utcMonthStart(epochMs);
      this.end = nextUtcMonthStart(epochMs);
    }
    return this.month;
  }
}
