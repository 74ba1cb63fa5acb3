/**
 * The wall clock and the UTC calendar, shared by the gateway and the handlers. Every decision about a
 * month, a day or a deadline reads a `Clock` handed to it (never `Date.now` directly), so tests pin the
 * instant and cover month and year ends on purpose instead of depending on the day they run.
 */

/** Wall-clock time in epoch milliseconds. */
export type Clock = () => number;

/** The real wall clock. */
export const systemClock: Clock = () => Date.now();

/** The first instant (epoch ms) of the UTC month that `epochMs` falls in. */
export function utcMonthStart(epochMs: number): number {
  const date = new Date(epochMs);
  return Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1);
}

/** The first instant (epoch ms) of the UTC month after the one `epochMs` falls in. */
export function nextUtcMonthStart(epochMs: number): number {
  const date = new Date(epochMs);
  return Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1);
}

/** The UTC month of an epoch-millisecond instant, `YYYY-MM`. */
export function utcMonth(epochMs: number): string {
  const date = new Date(epochMs);
  const month = date.getUTCMonth() + 1;
  return `${date.getUTCFullYear()}-${month < 10 ? '0' : ''}${month}`;
}
