import { CircuitBreaker, type CircuitState } from '../../../service/store';

function breaker(): { breaker: CircuitBreaker; clock: { ms: number }; changes: CircuitState[] } {
  const clock = { ms: 0 };
  const changes: CircuitState[] = [];
  return {
    breaker: new CircuitBreaker({
      failureThreshold: 3,
      cooldownMs: 1_000,
      now: () => clock.ms,
      onStateChange: (s) => changes.push(s),
    }),
    clock,
    changes,
  };
}

describe('CircuitBreaker', () => {
  it('opens after the threshold of consecutive failures, not after failures spread between successes', () => {
    const { breaker: b, changes } = breaker();
    b.failure();
    b.failure();
    b.success();
    b.failure();
    b.failure();
    expect(b.state).toBe('closed');
    b.failure();
    expect(b.state).toBe('open');
    expect(b.allow()).toBe(false);
    expect(changes).toEqual(['open']);
  });

  it('lets exactly one probe through after the cooldown, and closes when it succeeds', () => {
    const { breaker: b, clock, changes } = breaker();
    for (let i = 0; i < 3; i++) b.failure();
    clock.ms = 999;
    expect(b.allow()).toBe(false);
    expect(b.msUntilProbe).toBe(1);
    clock.ms = 1_000;
    expect(b.allow()).toBe(true);
    expect(b.state).toBe('half-open');
    expect(b.allow()).toBe(false); // the probe is still out
    b.success();
    expect(b.state).toBe('closed');
    expect(b.allow()).toBe(true);
    expect(changes).toEqual(['open', 'half-open', 'closed']);
  });

  it('reopens for another cooldown when the probe fails', () => {
    const { breaker: b, clock } = breaker();
    for (let i = 0; i < 3; i++) b.failure();
    clock.ms = 1_000;
    expect(b.allow()).toBe(true);
    b.failure();
    expect(b.state).toBe('open');
    clock.ms = 1_999;
    expect(b.allow()).toBe(false);
    clock.ms = 2_000;
    expect(b.allow()).toBe(true);
  });

  it('probes at once when told the connection is back', () => {
    const { breaker: b } = breaker();
    for (let i = 0; i < 3; i++) b.failure();
    expect(b.allow()).toBe(false);
    b.probeNow();
    expect(b.allow()).toBe(true);
    expect(b.state).toBe('half-open');
  });
});
