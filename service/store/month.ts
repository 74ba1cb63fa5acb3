/** Budgets are counted per UTC calendar month; these helpers name the month and say when it ends. */

/** The UTC month of an epoch-millisecond instant, `YYYY-MM`. */
export function utcMonth(epochMs: number): string {
  const date = new Date(epochMs);
  const month = date.getUTCMonth() + 1;
  return `${date.getUTCFullYear()}-${month < 10 ? '0' : ''}${month}`;
}

/** Milliseconds from `epochMs` to the first instant of the next UTC month. */
export function msUntilNextUtcMonth(epochMs: number): number {
  const date = new Date(epochMs);
  return Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1) - epochMs;
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
      const date = new Date(epochMs);
      this.month = utcMonth(epochMs);
      this.start = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1);
      this.end = Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1);
    }
    return this.month;
  }
}
