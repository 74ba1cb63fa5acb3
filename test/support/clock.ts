/**
 * Clocks for tests: no test reads the real date to decide a month. A `TestClock` is set by hand; the
 * `flowingClock` runs at real speed (rate limits refill, timeouts pass) from a fixed mid-month instant,
 * so a suite behaves the same on any day it runs, the last second of a month included.
 */
import type { Clock } from '../../runtime/clock';

/** A settable test clock. */
export class TestClock {
  constructor(public ms: number) {}
  readonly now = (): number => this.ms;
  advance(ms: number): void {
    this.ms += ms;
  }
}

/** Mid-month, mid-day, far from any calendar boundary. */
export const MID_MONTH_MS = Date.UTC(2026, 5, 17, 10, 30, 0);

const startedAt = performance.now();

/** Real-speed time from `MID_MONTH_MS`, shared by everything in one test process. */
export const flowingClock: Clock = () => MID_MONTH_MS + Math.floor(performance.now() - startedAt);
