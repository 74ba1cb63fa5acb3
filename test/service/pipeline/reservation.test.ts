import { MemoryObjectOwners } from '../../../service/store/object-owners';
import { MemoryPendingEntries } from '../../../service/store/pending-entries';
import type { PendingBatch, PendingResponse } from '../../../service/store/types';
import { Reservation, type Charge } from '../../../service/pipeline/reservation';
import type { AdmissionDecision, CacheEntry, GatewayStore, Ticket } from '../../../service/store/types';

interface Settlement {
  readonly ticket: Ticket;
  readonly actual: { readonly tokens: number; readonly costNanos: number };
  readonly cacheEntry: CacheEntry | undefined;
}

/** A store that records every settlement and is never asked anything else. */
class RecordingStore implements GatewayStore {
  readonly owners = new MemoryObjectOwners();
  readonly pending = new MemoryPendingEntries<PendingResponse>();
  readonly batches = new MemoryPendingEntries<PendingBatch>();
  readonly settlements: Settlement[] = [];
  /** The promise of the last settlement: left pending until `finish()`. */
  private finish: (() => void) | undefined;

  async admit(): Promise<AdmissionDecision> {
    throw new Error('not expected');
  }
  settle(ticket: Ticket, actual: Settlement['actual'], cacheEntry?: CacheEntry): Promise<void> {
    this.settlements.push({ ticket, actual, cacheEntry });
    return new Promise<void>((resolve) => (this.finish = resolve));
  }
  release(): void {
    this.finish?.();
  }
  async cacheSet(): Promise<void> {
    throw new Error('not expected');
  }
  async monthToDateSpendNanos(): Promise<number | undefined> {
    throw new Error('not expected');
  }
  async close(): Promise<void> {}
}

const TICKET: Ticket = {
  clientId: 'app',
  tokens: 1110,
  costNanos: 601_500,
  month: '2026-06',
  client: { rpm: 1000, tpm: 1_000_000, budgetNanos: 100e9 },
  stage: { rpm: 3000, tpm: 3_000_000, budgetNanos: 1000e9, burstMs: 60_000 },
};

describe('Reservation.settle', () => {
  let store: RecordingStore;
  beforeEach(() => {
    store = new RecordingStore();
  });
  afterEach(() => store.release());

  it('settles the ticket with the metered tokens and cost, and returns the metered value', () => {
    const charge: Charge = {
      metered: { promptTokens: 12, cachedPromptTokens: 0, completionTokens: 9, costNanos: 7_200 },
    };
    const metered = new Reservation(store, TICKET).settle(charge);

    expect(metered).toBe(charge.metered);
    expect(store.settlements).toEqual([
      { ticket: TICKET, actual: { tokens: 21, costNanos: 7_200 }, cacheEntry: undefined },
    ]);
    expect(store.settlements[0].ticket).toBe(TICKET);
  });

  it('passes the cache entry of a complete miss in the same settlement, as given', () => {
    const cacheEntry: CacheEntry = { key: 'cache:abc', value: 'J{"id":"x"}', ttlSeconds: 60 };
    const charge: Charge = {
      metered: { promptTokens: 2000, cachedPromptTokens: 0, completionTokens: 500, costNanos: 600_000 },
      cacheEntry,
    };
    new Reservation(store, TICKET).settle(charge);

    expect(store.settlements).toHaveLength(1);
    expect(store.settlements[0].actual).toEqual({ tokens: 2500, costNanos: 600_000 });
    expect(store.settlements[0].cacheEntry).toBe(cacheEntry);
  });

  it('settles a call that used nothing to zero, giving the whole reservation back', () => {
    const metered = new Reservation(store, TICKET).settle({
      metered: { promptTokens: 0, cachedPromptTokens: 0, completionTokens: 0, costNanos: 0 },
    });

    expect(metered).toEqual({ promptTokens: 0, cachedPromptTokens: 0, completionTokens: 0, costNanos: 0 });
    expect(store.settlements[0].actual).toEqual({ tokens: 0, costNanos: 0 });
  });

  it('returns at once, without waiting for the store', () => {
    const metered = new Reservation(store, TICKET).settle({
      metered: { promptTokens: 1, cachedPromptTokens: 0, completionTokens: 2, costNanos: 3 },
    });

    // The store's promise is still pending: the caller's answer does not wait for settlement.
    expect(metered).toEqual({ promptTokens: 1, cachedPromptTokens: 0, completionTokens: 2, costNanos: 3 });
    expect(store.settlements).toHaveLength(1);
  });
});
