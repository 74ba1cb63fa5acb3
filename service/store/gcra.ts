/**
 * The Generic Cell Rate Algorithm (GCRA) with a variable cost, the rate limiter both stores use.
 *
 * A limit of `limit` units per `periodMs` is a bucket of `limit` units that refills continuously. GCRA
 * keeps one number per scope instead of a count and a timestamp: the theoretical arrival time (TAT),
 * the instant at which the bucket would be full again. A reservation of `cost` units moves the TAT
 * forward by `cost x periodMs / limit`; it fits while the TAT stays within one period of now (or within
 * a shorter burst tolerance, which spreads the limit over the minute instead of allowing it at once).
 * Giving units back (settle) moves the TAT back, never before now. The same arithmetic runs in Lua
 * (redis-scripts.ts) so that both stores behave alike.
 */

/** Rate windows are one minute: RPM and TPM. */
export const RATE_PERIOD_MS = 60_000;

/** Float slack so that exactly `limit` reservations of 1 fit when `periodMs / limit` is not exact. */
export const GCRA_EPSILON_MS = 1e-3;

/** The outcome of one reservation attempt against one scope. */
export interface GcraOutcome {
  readonly allowed: boolean;
  /** The TAT after the reservation (unchanged when refused). */
  readonly tat: number;
  /** When refused: milliseconds until the same reservation would fit; 0 when allowed. */
  readonly waitMs: number;
}

/** One scope's limit: `limit` units per `periodMs`, of which at most `burstMs` worth at once. */
export interface GcraLimit {
  readonly limit: number;
  /** @default RATE_PERIOD_MS */
  readonly periodMs?: number;
  /** @default periodMs (the whole period's limit at once) */
  readonly burstMs?: number;
}

/**
 * Tries to reserve `cost` units.
 * @param tat the stored TAT, or undefined when the scope has none (a full bucket)
 */
export function gcraReserve(
  tat: number | undefined,
  now: number,
  scope: GcraLimit,
  cost: number,
): GcraOutcome {
  const { limit, periodMs = RATE_PERIOD_MS } = scope;
  const burstMs = scope.burstMs ?? periodMs;
  const start = tat === undefined || tat < now ? now : tat;
  const next = start + (cost * periodMs) / limit;
  const allowAt = next - burstMs;
  if (allowAt > now + GCRA_EPSILON_MS) return { allowed: false, tat: start, waitMs: allowAt - now };
  return { allowed: true, tat: next, waitMs: 0 };
}

/** Gives back `units` (negative takes more: usage above the reservation), never moving the TAT before now. */
export function gcraAdjust(tat: number | undefined, now: number, scope: GcraLimit, units: number): number {
  const { limit, periodMs = RATE_PERIOD_MS } = scope;
  const start = tat === undefined || tat < now ? now : tat;
  const next = start - (units * periodMs) / limit;
  return next < now ? now : next;
}

/** Units left to reserve right now. */
export function gcraRemaining(
  tat: number | undefined,
  now: number,
  limit: number,
  periodMs = RATE_PERIOD_MS,
): number {
  if (tat === undefined || tat <= now) return limit;
  const remaining = Math.floor(limit - ((tat - now) * limit) / periodMs + 1e-9);
  return remaining < 0 ? 0 : remaining;
}

/** Milliseconds until the scope is back to its full limit. */
export function gcraResetMs(tat: number | undefined, now: number): number {
  return tat === undefined || tat <= now ? 0 : Math.ceil(tat - now);
}
