/**
 * A circuit breaker around Redis: after `failureThreshold` consecutive failures it opens, and calls
 * skip Redis altogether (no per-request timeout during an outage). After `cooldownMs` one call is let
 * through as a probe (half-open): success closes the circuit, failure opens it for another cooldown.
 */
import { systemClock, type Clock } from '../../runtime/clock';
import { CommandTimeoutError, type CommandDeadline } from './command-deadline';
import { CircuitOpenError, StoreOperationError } from './errors';
import type { StoreErrorListener } from './types';

export type CircuitState = 'closed' | 'open' | 'half-open';

export interface CircuitBreakerOptions {
  /**
   * Consecutive failures that open the circuit.
   * @default 3
   */
  readonly failureThreshold?: number;
  /**
   * Time the circuit stays open before a probe, ms.
   * @default 1000
   */
  readonly cooldownMs?: number;
  /**
   * Clock (real time even when a store test fakes the calendar).
   * @default systemClock
   */
  readonly now?: Clock;
  /** Told of every state change. */
  readonly onStateChange?: (state: CircuitState) => void;
}

export class CircuitBreaker {
  private currentState: CircuitState = 'closed';
  private failures = 0;
  private openedAt = 0;
  private readonly failureThreshold: number;
  private readonly cooldownMs: number;
  private readonly now: Clock;
  private readonly onStateChange: ((state: CircuitState) => void) | undefined;

  constructor(options: CircuitBreakerOptions = {}) {
    this.failureThreshold = options.failureThreshold ?? 3;
    this.cooldownMs = options.cooldownMs ?? 1000;
    this.now = options.now ?? systemClock;
    this.onStateChange = options.onStateChange;
  }

  get state(): CircuitState {
    return this.currentState;
  }

  /** Milliseconds until the next probe may run (0 unless open). */
  get msUntilProbe(): number {
    if (this.currentState !== 'open') return 0;
    return Math.max(0, this.openedAt + this.cooldownMs - this.now());
  }

  /**
   * Whether a call may go to Redis now. While open, the first call after the cooldown becomes the
   * probe; other calls are refused until the probe reports back.
   */
  allow(): boolean {
    if (this.currentState === 'closed') return true;
    if (this.currentState === 'half-open') return false;
    if (this.now() - this.openedAt < this.cooldownMs) return false;
    this.transition('half-open');
    return true;
  }

  /** Lets the next call probe at once (e.g. the connection just came back). */
  probeNow(): void {
    if (this.currentState === 'open') this.openedAt = this.now() - this.cooldownMs;
  }

  success(): void {
    this.failures = 0;
    if (this.currentState !== 'closed') this.transition('closed');
  }

  failure(): void {
    this.failures++;
    if (
      this.currentState === 'half-open' ||
      (this.currentState === 'closed' && this.failures >= this.failureThreshold)
    ) {
      this.openedAt = this.now();
      this.transition('open');
    }
  }

  private transition(state: CircuitState): void {
    this.currentState = state;
    this.onStateChange?.(state);
  }
}

/**
 * Store commands behind a breaker with no fallback (ownership, pending entries): while the circuit is
 * open they fail at once (a 503, or a retry at the next poll) instead of waiting out a command timeout
 * each. Every failure is reported.
 */
export class GuardedCommands {
  constructor(
    private readonly breaker: CircuitBreaker,
    private readonly onError?: StoreErrorListener,
    /** Times each command by Redis's time, not the loop's. @default none: the client's own timeout */
    private readonly deadline?: CommandDeadline,
  ) {}

  async run<T>(operation: string, command: () => Promise<T>): Promise<T> {
    if (!this.breaker.allow()) {
      const err = new CircuitOpenError(operation);
      this.onError?.(operation, err);
      throw err;
    }
    try {
      const value = await (this.deadline ? this.deadline.run(command()) : command());
      this.breaker.success();
      return value;
    } catch (caught) {
      // The deadline's timeout is named like the command's own errors (the primary wraps those).
      const err = caught instanceof CommandTimeoutError ? new StoreOperationError(operation, caught) : caught;
      this.breaker.failure();
      this.onError?.(operation, err);
      throw err;
    }
  }
}
