import { DEFAULT_MAX_CONCURRENT_CALLS } from '../../../runtime/gateway-config';
import { ConcurrencyLimits } from '../../../service/pipeline/concurrency';
import { GatewayError } from '../../../service/errors';

describe('ConcurrencyLimits', () => {
  it('admits a client up to its cap, refuses the next with 429 and Retry-After, and frees a slot on release', () => {
    const limits = new ConcurrencyLimits();
    const client = { id: 'a', maxConcurrentCalls: 2 };
    const first = limits.acquire(client);
    limits.acquire(client);
    let refusal: unknown;
    try {
      limits.acquire(client);
    } catch (err) {
      refusal = err;
    }
    expect(refusal).toBeInstanceOf(GatewayError);
    expect(refusal).toMatchObject({
      status: 429,
      type: 'requests',
      code: 'concurrency_limit_exceeded',
      headers: { 'retry-after': '1' },
    });
    first.release();
    first.release(); // a second release gives nothing back twice
    expect(limits.count('a')).toBe(1);
    expect(() => limits.acquire(client)).not.toThrow();
    expect(limits.count('a')).toBe(2);
  });

  it('counts each client apart, with the default cap when the config gives none', () => {
    const limits = new ConcurrencyLimits();
    for (let i = 0; i < DEFAULT_MAX_CONCURRENT_CALLS; i++) limits.acquire({ id: 'b' });
    expect(() => limits.acquire({ id: 'b' })).toThrow(GatewayError);
    expect(() => limits.acquire({ id: 'c', maxConcurrentCalls: 1 })).not.toThrow();
    expect(limits.count('b')).toBe(DEFAULT_MAX_CONCURRENT_CALLS);
  });
});
