/**
 * Model calls in flight per client on this replica. The cap protects the replica's upstream connection
 * pool (its own, not shared with other replicas), so it is counted in process: one client's slow calls
 * cannot make every other client wait behind them.
 */
import { DEFAULT_MAX_CONCURRENT_CALLS, type ClientConfig } from '../../runtime/gateway-config';
import { tooManyConcurrentCalls } from '../errors';

/** A slot taken by one call; give it back exactly once with `release`. */
export interface CallSlot {
  release(): void;
}

export class ConcurrencyLimits {
  private readonly inFlight = new Map<string, number>();

  /** A slot for a call of `client`. @throws GatewayError 429 when the client is at its cap */
  acquire(client: Pick<ClientConfig, 'id' | 'maxConcurrentCalls'>): CallSlot {
    const limit = client.maxConcurrentCalls ?? DEFAULT_MAX_CONCURRENT_CALLS;
    const current = this.inFlight.get(client.id) ?? 0;
    if (current >= limit) throw tooManyConcurrentCalls(limit);
    this.inFlight.set(client.id, current + 1);
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        const left = (this.inFlight.get(client.id) ?? 1) - 1;
        if (left === 0) this.inFlight.delete(client.id);
        else this.inFlight.set(client.id, left);
      },
    };
  }

  /** Calls of `clientId` in flight now. */
  count(clientId: string): number {
    return this.inFlight.get(clientId) ?? 0;
  }
}
