import type Redis from 'ioredis';
import { CircuitBreaker } from '../../../service/store/circuit-breaker';
import { CircuitOpenError, StoreOperationError } from '../../../service/store/errors';
import {
  GuardedObjectOwners,
  MemoryObjectOwners,
  RedisObjectOwners,
} from '../../../service/store/object-owners';
import type { OwnerCommands } from '../../../service/store/object-owners';
import type { ContextGrowth, ObjectOwner, ObjectOwners } from '../../../service/store/types';
import { MID_MONTH_MS, TestClock } from '../../support/clock';

const rejection = async (p: Promise<unknown>): Promise<unknown> =>
  p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e,
  );

describe('MemoryObjectOwners', () => {
  it('keeps an owner until its TTL has passed, on its clock', async () => {
    const clock = new TestClock(MID_MONTH_MS);
    const owners = new MemoryObjectOwners(clock.now);
    await owners.record('resp_1', { clientId: 'app', contextTokens: 42 }, 60);
    expect(await owners.lookup('resp_1')).toEqual({ clientId: 'app', contextTokens: 42 });
    clock.advance(59_999);
    expect(await owners.lookup('resp_1')).toEqual({ clientId: 'app', contextTokens: 42 });
    clock.advance(1);
    expect(await owners.lookup('resp_1')).toBeUndefined();
    // Gone for good: turning the clock back does not bring it back.
    clock.advance(-30_000);
    expect(await owners.lookup('resp_1')).toBeUndefined();
  });

  it('never expires an owner recorded with TTL 0', async () => {
    const clock = new TestClock(MID_MONTH_MS);
    const owners = new MemoryObjectOwners(clock.now);
    await owners.record('conv_1', { clientId: 'app' }, 0);
    clock.advance(10 * 365 * 24 * 3600 * 1000);
    expect(await owners.lookup('conv_1')).toEqual({ clientId: 'app' });
  });

  it('replaces a record, its TTL restarting from the new record', async () => {
    const clock = new TestClock(MID_MONTH_MS);
    const owners = new MemoryObjectOwners(clock.now);
    await owners.record('resp_1', { clientId: 'app' }, 60);
    clock.advance(50_000);
    await owners.record('resp_1', { clientId: 'app', contextTokens: 9 }, 60);
    clock.advance(50_000);
    expect(await owners.lookup('resp_1')).toEqual({ clientId: 'app', contextTokens: 9 });
    await owners.record('resp_1', { clientId: 'app' }, 0);
    clock.advance(3_600_000);
    expect(await owners.lookup('resp_1')).toEqual({ clientId: 'app' });
  });

  it('forgets an owner, and an id it never knew without complaint', async () => {
    const owners = new MemoryObjectOwners(new TestClock(MID_MONTH_MS).now);
    await owners.record('resp_1', { clientId: 'app' }, 60);
    await owners.record('resp_2', { clientId: 'other' }, 60);
    await owners.forget('resp_1');
    await expect(owners.forget('resp_unknown')).resolves.toBeUndefined();
    expect(await owners.lookup('resp_1')).toBeUndefined();
    expect(await owners.lookup('resp_2')).toEqual({ clientId: 'other' });
  });
});

/** The three commands `RedisObjectOwners` sends, kept in a map, with a switch to make them fail. */
function fakeRedis() {
  const values = new Map<string, string>();
  const calls: unknown[][] = [];
  let failing: Error | undefined;
  const run = <T>(args: unknown[], answer: () => T): Promise<T> => {
    calls.push(args);
    return failing ? Promise.reject(failing) : Promise.resolve(answer());
  };
  const redis = {
    set: (...args: unknown[]) =>
      run(['set', ...args], () => {
        values.set(String(args[0]), String(args[1]));
        return 'OK';
      }),
    get: (key: string) => run(['get', key], () => values.get(key) ?? null),
    del: (key: string) => run(['del', key], () => (values.delete(key) ? 1 : 0)),
  };
  return {
    redis: redis as unknown as Redis & OwnerCommands,
    values,
    calls,
    fail: (err: Error | undefined) => (failing = err),
  };
}

describe('RedisObjectOwners', () => {
  it('keeps one key per object under the stage prefix, with EX for a TTL and none for TTL 0', async () => {
    const r = fakeRedis();
    const owners = new RedisObjectOwners(r.redis, 'oai:test:');
    await owners.record('resp_1', { clientId: 'app', contextTokens: 42 }, 2_678_400);
    await owners.record('conv_1', { clientId: 'app' }, 0);
    expect(r.calls).toEqual([
      ['set', 'oai:test:own:resp_1', '{"clientId":"app","contextTokens":42}', 'EX', 2_678_400],
      ['set', 'oai:test:own:conv_1', '{"clientId":"app"}'],
    ]);
    expect(await owners.lookup('resp_1')).toEqual({ clientId: 'app', contextTokens: 42 });
    await owners.forget('resp_1');
    expect(r.calls.slice(2)).toEqual([
      ['get', 'oai:test:own:resp_1'],
      ['del', 'oai:test:own:resp_1'],
    ]);
    expect(await owners.lookup('resp_1')).toBeUndefined();
  });

  it.each<[string, string, ObjectOwner | undefined]>([
    ['not JSON', '{"clientId":', undefined],
    ['not an object', '"app"', undefined],
    ['an array', '["app"]', undefined],
    ['no client id', '{"contextTokens":5}', undefined],
    ['a numeric client id', '{"clientId":5}', undefined],
    ['a negative count', '{"clientId":"app","contextTokens":-1}', { clientId: 'app' }],
    ['a fractional count', '{"clientId":"app","contextTokens":1.5}', { clientId: 'app' }],
    ['a string count', '{"clientId":"app","contextTokens":"5"}', { clientId: 'app' }],
    [
      'extra fields',
      '{"clientId":"app","contextTokens":5,"admin":true}',
      { clientId: 'app', contextTokens: 5 },
    ],
  ])('reads a stored value that is %s as %j', async (_what, stored, expected) => {
    const r = fakeRedis();
    r.values.set('oai:test:own:resp_1', stored);
    expect(await new RedisObjectOwners(r.redis, 'oai:test:').lookup('resp_1')).toEqual(expected);
  });

  it('rejects with a StoreOperationError naming the operation, never with the command', async () => {
    const r = fakeRedis();
    const owners = new RedisObjectOwners(r.redis, 'oai:test:');
    r.fail(new Error('Command timed out: GET oai:test:own:resp_secret\nat line 2'));
    const results = await Promise.all([
      rejection(owners.record('resp_secret', { clientId: 'app' }, 60)),
      rejection(owners.lookup('resp_secret')),
      rejection(owners.forget('resp_secret')),
    ]);
    expect(results.map((e) => (e as StoreOperationError).operation)).toEqual([
      'owner_record',
      'owner_lookup',
      'owner_forget',
    ]);
    for (const e of results) expect(e).toBeInstanceOf(StoreOperationError);
    expect((results[1] as Error).message).toBe(
      'redis owner_lookup failed: Command timed out: GET oai:test:own:resp_secret',
    );
  });
});

/** An `ObjectOwners` that counts its calls and fails while `failing` is set. */
function primary() {
  const inner = new MemoryObjectOwners(new TestClock(MID_MONTH_MS).now);
  const state = { calls: 0, failing: undefined as Error | undefined };
  const wrap =
    <A extends unknown[], T>(f: (...args: A) => Promise<T>) =>
    (...args: A): Promise<T> => {
      state.calls++;
      return state.failing ? Promise.reject(state.failing) : f(...args);
    };
  const owners: ObjectOwners = {
    record: wrap((id: string, owner: ObjectOwner, ttl: number) => inner.record(id, owner, ttl)),
    lookup: wrap((id: string) => inner.lookup(id)),
    forget: wrap((id: string) => inner.forget(id)),
    extend: wrap((id: string, growth: ContextGrowth) => inner.extend(id, growth)),
  };
  return { owners, state };
}

describe('GuardedObjectOwners', () => {
  const setup = (threshold = 3) => {
    const clock = new TestClock(0);
    const breaker = new CircuitBreaker({ failureThreshold: threshold, cooldownMs: 1_000, now: clock.now });
    const p = primary();
    const errors: Array<[string, unknown]> = [];
    const guarded = new GuardedObjectOwners(p.owners, breaker, (operation, err) =>
      errors.push([operation, err]),
    );
    return { clock, breaker, p, errors, guarded };
  };

  it('passes every call through to the primary while the circuit is closed', async () => {
    const { guarded, p, errors, breaker } = setup();
    await guarded.record('resp_1', { clientId: 'app' }, 60);
    expect(await guarded.lookup('resp_1')).toEqual({ clientId: 'app' });
    expect(await guarded.lookup('resp_2')).toBeUndefined();
    await guarded.forget('resp_1');
    expect(await guarded.lookup('resp_1')).toBeUndefined();
    expect(p.state.calls).toBe(5);
    expect(errors).toEqual([]);
    expect(breaker.state).toBe('closed');
  });

  it('rejects with CircuitOpenError without calling the primary while the circuit is open, and reports it', async () => {
    const { guarded, p, errors, breaker } = setup();
    for (let i = 0; i < 3; i++) breaker.failure();
    expect(breaker.state).toBe('open');
    const results = await Promise.all([
      rejection(guarded.record('resp_1', { clientId: 'app' }, 60)),
      rejection(guarded.lookup('resp_1')),
      rejection(guarded.forget('resp_1')),
    ]);
    for (const e of results) expect(e).toBeInstanceOf(CircuitOpenError);
    expect(results.map((e) => (e as CircuitOpenError).operation)).toEqual([
      'owner_record',
      'owner_lookup',
      'owner_forget',
    ]);
    expect(p.state.calls).toBe(0);
    expect(errors).toEqual([
      ['owner_record', results[0]],
      ['owner_lookup', results[1]],
      ['owner_forget', results[2]],
    ]);
  });

  it("reports and rethrows the primary's failure, and opens the circuit at its threshold", async () => {
    const { guarded, p, errors, breaker } = setup(3);
    const down = new Error('down');
    p.state.failing = down;
    for (let i = 0; i < 2; i++) expect(await rejection(guarded.lookup('resp_1'))).toBe(down);
    expect(breaker.state).toBe('closed');
    expect(await rejection(guarded.record('resp_1', { clientId: 'app' }, 60))).toBe(down);
    expect(breaker.state).toBe('open');
    expect(p.state.calls).toBe(3);
    expect(errors).toEqual([
      ['owner_lookup', down],
      ['owner_lookup', down],
      ['owner_record', down],
    ]);
    // Open: the next call never reaches the primary.
    expect(await rejection(guarded.lookup('resp_1'))).toBeInstanceOf(CircuitOpenError);
    expect(p.state.calls).toBe(3);
  });

  it('counts a success, even an absent owner, as the end of a failure run', async () => {
    const { guarded, p, breaker } = setup(2);
    p.state.failing = new Error('down');
    await rejection(guarded.lookup('resp_1'));
    p.state.failing = undefined;
    expect(await guarded.lookup('resp_1')).toBeUndefined();
    p.state.failing = new Error('down');
    await rejection(guarded.lookup('resp_1'));
    expect(breaker.state).toBe('closed');
  });

  it('lets one probe through after the cooldown, closing the circuit when it succeeds', async () => {
    const { guarded, p, breaker, clock } = setup(1);
    p.state.failing = new Error('down');
    await rejection(guarded.lookup('resp_1'));
    expect(breaker.state).toBe('open');
    p.state.failing = undefined;
    clock.advance(999);
    expect(await rejection(guarded.lookup('resp_1'))).toBeInstanceOf(CircuitOpenError);
    clock.advance(1);
    expect(await guarded.lookup('resp_1')).toBeUndefined();
    expect(breaker.state).toBe('closed');
    expect(p.state.calls).toBe(2);
  });

  it('works without an error listener', async () => {
    const breaker = new CircuitBreaker({ failureThreshold: 1, now: () => 0 });
    const p = primary();
    const guarded = new GuardedObjectOwners(p.owners, breaker);
    p.state.failing = new Error('down');
    expect(((await rejection(guarded.forget('x'))) as Error).message).toBe('down');
    expect(await rejection(guarded.forget('x'))).toBeInstanceOf(CircuitOpenError);
  });
});
