/**
 * Command timeouts that count Redis's time, not the gateway's. A reply that arrived while the
 * gateway's own event loop was held (a starved loop, a long synchronous task) sits unread in the
 * socket; a plain timer fires first when the loop frees up, and the breaker would take the gateway's
 * overload for a Redis failure. Here the loop's stalls are measured and left out of a command's time.
 */
import { performance } from 'node:perf_hooks';

/** How often the stall meter samples the loop, ms: stalls shorter than this go unseen. */
const SAMPLE_MS = 10;

/**
 * Measures how long the event loop was held: a timer every `SAMPLE_MS`, and the time each tick came
 * later than due. One per store; it never keeps the process alive.
 */
export class LoopStallMeter {
  private stalledMs = 0;
  private lastTick = performance.now();
  private readonly timer: NodeJS.Timeout;

  constructor() {
    this.timer = setInterval(() => {
      const now = performance.now();
      this.stalledMs += Math.max(0, now - this.lastTick - SAMPLE_MS);
      this.lastTick = now;
    }, SAMPLE_MS);
    this.timer.unref();
  }

  /** Milliseconds the loop has been held since the meter started, the stall in progress included. */
  stalledUntilNow(): number {
    return this.stalledMs + Math.max(0, performance.now() - this.lastTick - SAMPLE_MS);
  }

  close(): void {
    clearInterval(this.timer);
  }
}

/** A command that had its whole timeout of Redis time without an answer. */
export class CommandTimeoutError extends Error {
  constructor(timeoutMs: number) {
    super(`Command timed out (${timeoutMs} ms while the event loop was free)`);
    this.name = 'CommandTimeoutError';
  }
}

export interface CommandDeadlineOptions {
  /** Time a command may take, not counting time the gateway's event loop was held, ms. */
  readonly timeoutMs: number;
  readonly meter: LoopStallMeter;
}

/**
 * Fails a command once it has had `timeoutMs` of wall time minus the loop's stalls meanwhile. When the
 * timer fires after a stall it is re-armed for the time still owed, so a reply already in the socket
 * is read (the poll phase follows) instead of being dropped as a timeout.
 */
export class CommandDeadline {
  constructor(private readonly options: CommandDeadlineOptions) {}

  run<T>(command: Promise<T>): Promise<T> {
    const { timeoutMs, meter } = this.options;
    const startedAt = performance.now();
    const stalledAtStart = meter.stalledUntilNow();
    return new Promise<T>((resolve, reject) => {
      const check = (): void => {
        const held = meter.stalledUntilNow() - stalledAtStart;
        const redisMs = performance.now() - startedAt - held;
        if (redisMs >= timeoutMs) reject(new CommandTimeoutError(timeoutMs));
        else timer = setTimeout(check, timeoutMs - redisMs);
      };
      let timer = setTimeout(check, timeoutMs);
      command.then(
        (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        (error: unknown) => {
          clearTimeout(timer);
          reject(error);
        },
      );
    });
  }

  close(): void {
    this.options.meter.close();
  }
}

/**
 * The ioredis `commandTimeout` behind a `CommandDeadline`: a wall-clock backstop, so that no command
 * waits forever even on a loop that never frees up (shedding should have started long before).
 */
export function backstopTimeoutMs(timeoutMs: number): number {
  return Math.max(1_000, timeoutMs * 20);
}
