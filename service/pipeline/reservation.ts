/**
 * A reservation is what admission took from the limits and budgets for one call that goes upstream;
 * settlement replaces it with what the call used. `model-call.ts` settles at exactly one place, after
 * the upstream step, which returns its charge and never throws; a cache hit reserves nothing to settle
 * and has no `Reservation` at all.
 */
import type { CacheEntry, GatewayStore, Ticket } from '../store/types';
import type { Metered } from './metering';

/** What a call is charged: the metered usage, and the cache entry a complete miss writes with it. */
export interface Charge {
  readonly metered: Metered;
  readonly cacheEntry?: CacheEntry;
  /**
   * The reservation went to the background settler (a background response upstream has not finished):
   * it is settled there, once, when its final status is seen, not here. @default false
   */
  readonly held?: boolean;
}

export class Reservation {
  constructor(
    private readonly store: GatewayStore,
    readonly ticket: Ticket,
  ) {}

  /**
   * Corrects the reservation to `charge` (and writes its cache entry in the same store command). Off
   * the response path: the store never throws and reports its own failures.
   */
  settle(charge: Charge): Metered {
    const { metered, cacheEntry } = charge;
    void this.store.settle(
      this.ticket,
      { tokens: metered.promptTokens + metered.completionTokens, costNanos: metered.costNanos },
      cacheEntry,
    );
    return metered;
  }
}
