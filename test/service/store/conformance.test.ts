/**
 * One behaviour, two backends: every test here runs against the in-process MemoryStore and against
 * the Redis store on a real redis-server (with the `closed` fallback, so a Redis problem fails the
 * test instead of hiding behind the fallback).
 */
import { CONTEXT_WINDOW_TOKENS } from '../../../runtime/gateway-config';
import { ResilientStore, type AdmissionDecision, type GatewayStore } from '../../../service/store';
import { RedisServer } from '../../support/redis-server';
import {
  memoryFactory,
  redisFactory,
  request,
  roomy,
  TestClock,
  uniqueStage,
  type StoreFactory,
} from './store-harness';

let server: RedisServer;
beforeAll(async () => {
  server = await RedisServer.start();
});
afterAll(async () => {
  await server?.stop();
});

const factories: StoreFactory[] = [memoryFactory, redisFactory(() => server)];

function admitted(decision: AdmissionDecision): Extract<AdmissionDecision, { ok: true }> {
  if (!decision.ok)
    throw new Error(`expected admission, got ${decision.reason} (degraded: ${decision.degraded})`);
  expect(decision.degraded).toBe(false);
  return decision;
}

function refused(decision: AdmissionDecision): Extract<AdmissionDecision, { ok: false }> {
  if (decision.ok) throw new Error('expected a refusal');
  expect(decision.degraded).toBe(false);
  return decision;
}

describe.each(factories)('$name', (factory) => {
  const open: GatewayStore[] = [];
  let clock: TestClock;
  let stage: string;
  const newStore = async (options: { stage?: string } = {}): Promise<GatewayStore> => {
    const store = factory.create({ stage: options.stage ?? stage, clock });
    open.push(store);
    if (store instanceof ResilientStore) expect(await store.whenConnected(10_000)).toBe(true);
    return store;
  };

  beforeEach(() => {
    // Mid-month, mid-minute: far from any boundary unless a test moves the clock there.
    clock = new TestClock(Date.UTC(2026, 2, 10, 12, 0, 30, 123));
    stage = uniqueStage();
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((store) => store.close()));
  });

  describe('requests per minute', () => {
    it('admits a client up to its RPM, then refuses with reason requests and the wait for one request', async () => {
      const store = await newStore();
      const client = { ...roomy, rpm: 3 };
      const snapshots = [];
      for (let i = 0; i < 3; i++) snapshots.push(admitted(await store.admit(request({ client }))).rateLimit);
      expect(snapshots.map((s) => s.remainingRequests)).toEqual([2, 1, 0]);
      expect(snapshots.map((s) => s.resetRequestsMs)).toEqual([20_000, 40_000, 60_000]);

      const refusal = refused(await store.admit(request({ client })));
      expect(refusal.reason).toBe('requests');
      // One request comes back every 60 s / 3 = 20 s.
      expect(refusal.retryAfterSeconds).toBe(20);
      expect(refusal.rateLimit).toMatchObject({
        limitRequests: 3,
        remainingRequests: 0,
        resetRequestsMs: 60_000,
      });

      clock.advance(19_000);
      expect(refused(await store.admit(request({ client }))).retryAfterSeconds).toBe(1);
      clock.advance(1_000);
      expect(admitted(await store.admit(request({ client }))).rateLimit.remainingRequests).toBe(0);
    });

    it('limits the stage across clients', async () => {
      const store = await newStore();
      const stageLimits = { ...roomy, rpm: 2 };
      admitted(await store.admit(request({ clientId: 'a', stage: stageLimits })));
      admitted(await store.admit(request({ clientId: 'b', stage: stageLimits })));
      const refusal = refused(await store.admit(request({ clientId: 'c', stage: stageLimits })));
      expect(refusal.reason).toBe('requests');
      expect(refusal.retryAfterSeconds).toBe(30);
      // The snapshot describes the calling client, which has used nothing.
      expect(refusal.rateLimit).toMatchObject({
        limitRequests: roomy.rpm,
        remainingRequests: roomy.rpm,
        resetRequestsMs: 0,
      });
    });

    it('spreads the stage limit over the minute when a burst tolerance is set', async () => {
      const store = await newStore();
      // 600 RPM with 1 s of burst: 10 requests at once, then one every 100 ms.
      const stageLimits = { ...roomy, rpm: 600, burstMs: 1_000 };
      for (let i = 0; i < 10; i++) {
        admitted(await store.admit(request({ clientId: `c${i}`, stage: stageLimits })));
      }
      const refusal = refused(await store.admit(request({ clientId: 'c10', stage: stageLimits })));
      expect(refusal.reason).toBe('requests');
      expect(refusal.retryAfterSeconds).toBe(1);
      clock.advance(100);
      admitted(await store.admit(request({ clientId: 'c10', stage: stageLimits })));
      expect(refused(await store.admit(request({ clientId: 'c11', stage: stageLimits }))).reason).toBe(
        'requests',
      );
    });

    it('lets a whole minute of the stage limit through at once without a burst tolerance', async () => {
      const store = await newStore();
      const stageLimits = { ...roomy, rpm: 600 };
      for (let i = 0; i < 11; i++) {
        admitted(await store.admit(request({ clientId: `c${i}`, stage: stageLimits })));
      }
    });

    it('keeps clients apart', async () => {
      const store = await newStore();
      const client = { ...roomy, rpm: 1 };
      admitted(await store.admit(request({ clientId: 'a', client })));
      expect(refused(await store.admit(request({ clientId: 'a', client }))).reason).toBe('requests');
      admitted(await store.admit(request({ clientId: 'b', client })));
    });
  });

  describe('tokens per minute', () => {
    it('reserves tokens against the client TPM and refuses with the wait for the missing tokens', async () => {
      const store = await newStore();
      const client = { ...roomy, tpm: 1_000 };
      expect(admitted(await store.admit(request({ client, tokens: 400 }))).rateLimit).toMatchObject({
        limitTokens: 1_000,
        remainingTokens: 600,
        resetTokensMs: 24_000,
      });
      admitted(await store.admit(request({ client, tokens: 400 })));
      const refusal = refused(await store.admit(request({ client, tokens: 400 })));
      expect(refusal.reason).toBe('tokens');
      // 200 tokens are free; the other 200 refill at 1000 per 60 s: 12 s.
      expect(refusal.retryAfterSeconds).toBe(12);
      expect(refusal.rateLimit).toMatchObject({ remainingTokens: 200, resetTokensMs: 48_000 });
      admitted(await store.admit(request({ client, tokens: 200 })));
    });

    it('limits the stage TPM across clients', async () => {
      const store = await newStore();
      const stageLimits = { ...roomy, tpm: 500 };
      admitted(await store.admit(request({ clientId: 'a', stage: stageLimits, tokens: 300 })));
      const refusal = refused(await store.admit(request({ clientId: 'b', stage: stageLimits, tokens: 300 })));
      expect(refusal.reason).toBe('tokens');
      expect(refusal.retryAfterSeconds).toBe(12); // 100 tokens missing at 500 per minute
    });

    it('spreads the stage TPM over the minute when a burst tolerance is set', async () => {
      const store = await newStore();
      // 6,000 TPM with 10 s of burst: 1,000 tokens at once.
      const stageLimits = { ...roomy, tpm: 6_000, burstMs: 10_000 };
      admitted(await store.admit(request({ clientId: 'a', stage: stageLimits, tokens: 600 })));
      const refusal = refused(await store.admit(request({ clientId: 'b', stage: stageLimits, tokens: 600 })));
      expect(refusal.reason).toBe('tokens');
      // 1,200 tokens are 12 s of the stage's refill; 10 s of that may be ahead of now: wait 2 s.
      expect(refusal.retryAfterSeconds).toBe(2);
      clock.advance(2_000);
      admitted(await store.admit(request({ clientId: 'b', stage: stageLimits, tokens: 600 })));
    });

    it('names the check with the longest wait when several refuse, so the retry is not refused again', async () => {
      const store = await newStore();
      const client = { ...roomy, rpm: 60, tpm: 100 };
      admitted(await store.admit(request({ client, tokens: 100 })));
      const refusal = refused(await store.admit(request({ client, tokens: 100 })));
      // requests would need 1 s, tokens 60 s
      expect(refusal.reason).toBe('tokens');
      expect(refusal.retryAfterSeconds).toBe(60);
    });
  });

  describe('settle', () => {
    it('gives unused tokens back to the client and the stage', async () => {
      const store = await newStore();
      const client = { ...roomy, tpm: 1_000 };
      const stageLimits = { ...roomy, tpm: 2_000 };
      const { ticket } = admitted(await store.admit(request({ client, stage: stageLimits, tokens: 1_000 })));
      expect(refused(await store.admit(request({ client, stage: stageLimits, tokens: 1 }))).reason).toBe(
        'tokens',
      );

      await store.settle(ticket, { tokens: 250, costNanos: ticket.costNanos });
      const next = admitted(await store.admit(request({ client, stage: stageLimits, tokens: 750 })));
      expect(next.rateLimit.remainingTokens).toBe(0);
      // The stage got its 750 back too: 2000 - 250 - 750 left for another client.
      admitted(await store.admit(request({ clientId: 'other', stage: stageLimits, tokens: 1_000 })));
      expect(
        refused(await store.admit(request({ clientId: 'third', stage: stageLimits, tokens: 1 }))).reason,
      ).toBe('tokens');
    });

    it('takes tokens used beyond the reservation', async () => {
      const store = await newStore();
      const client = { ...roomy, tpm: 1_000 };
      const { ticket } = admitted(await store.admit(request({ client, tokens: 100 })));
      await store.settle(ticket, { tokens: 600, costNanos: ticket.costNanos });
      expect(admitted(await store.admit(request({ client, tokens: 1 }))).rateLimit.remainingTokens).toBe(399);
    });

    it('replaces the reserved cost with the actual cost in both budgets', async () => {
      const store = await newStore();
      const { ticket } = admitted(await store.admit(request({ costNanos: 10_000 })));
      expect(await store.monthToDateSpendNanos()).toBe(10_000);
      await store.settle(ticket, { tokens: ticket.tokens, costNanos: 2_500 });
      expect(await store.monthToDateSpendNanos()).toBe(2_500);
      // The client budget was corrected too: 7,500 nanos of room came back.
      const client = { ...roomy, budgetNanos: 10_000 };
      admitted(await store.admit(request({ client, costNanos: 7_500 })));
      expect(refused(await store.admit(request({ client, costNanos: 1 }))).reason).toBe('client_budget');
    });

    it('settles a call that never reached upstream to zero', async () => {
      const store = await newStore();
      const { ticket } = admitted(await store.admit(request({ costNanos: 5_000, tokens: 500 })));
      await store.settle(ticket, { tokens: 0, costNanos: 0 });
      expect(await store.monthToDateSpendNanos()).toBe(0);
      expect(
        admitted(await store.admit(request({ tokens: 0, costNanos: 0 }))).rateLimit.remainingTokens,
      ).toBe(roomy.tpm);
    });
  });

  describe('the calendar', () => {
    // A budget spent in one month is available again at 00:00:00.000 UTC of the next: not a
    // millisecond early, not a second late, with a Retry-After that counts down to that instant.
    it.each([
      ['the end of June', '2026-07-01T00:00:00.000Z', '2026-06', '2026-07'],
      ['31 December to 1 January', '2027-01-01T00:00:00.000Z', '2026-12', '2027-01'],
      ['28 February to 1 March', '2027-03-01T00:00:00.000Z', '2027-02', '2027-03'],
      ['a leap day to 1 March', '2028-03-01T00:00:00.000Z', '2028-02', '2028-03'],
    ])(
      '%s: spent at the last minute, refused until %s, then a fresh month',
      async (_what, at, before, after) => {
        const boundary = Date.parse(at);
        clock.ms = boundary - 60_000;
        const store = await newStore();
        const client = { ...roomy, budgetNanos: 1_000 };
        expect(admitted(await store.admit(request({ client, costNanos: 1_000 }))).ticket.month).toBe(before);
        const lastMinute = refused(await store.admit(request({ client, costNanos: 1 })));
        expect(lastMinute).toMatchObject({ reason: 'client_budget', retryAfterSeconds: 60 });

        clock.ms = boundary - 1;
        const lastMillisecond = refused(await store.admit(request({ client, costNanos: 1 })));
        expect(lastMillisecond).toMatchObject({ reason: 'client_budget', retryAfterSeconds: 1 });
        expect(await store.monthToDateSpendNanos()).toBe(1_000);

        clock.ms = boundary;
        const fresh = admitted(await store.admit(request({ client, costNanos: 400 })));
        expect(fresh.ticket.month).toBe(after);
        clock.ms = boundary + 59_999;
        expect(await store.monthToDateSpendNanos()).toBe(400);
        admitted(await store.admit(request({ client, costNanos: 600 })));
        expect(refused(await store.admit(request({ client, costNanos: 1 }))).reason).toBe('client_budget');
      },
    );

    it('does not start a month on a leap day: a budget spent on 28 February 2028 stays spent on the 29th', async () => {
      clock.ms = Date.parse('2028-02-28T23:59:30.000Z');
      const store = await newStore();
      const client = { ...roomy, budgetNanos: 1_000 };
      admitted(await store.admit(request({ client, costNanos: 1_000 })));
      clock.ms = Date.parse('2028-02-29T00:00:30.000Z');
      const refusal = refused(await store.admit(request({ client, costNanos: 1 })));
      // 23 h 59 min 30 s to 1 March.
      expect(refusal).toMatchObject({ reason: 'client_budget', retryAfterSeconds: 86_370 });
      expect(await store.monthToDateSpendNanos()).toBe(1_000);
    });
  });

  describe('budgets', () => {
    it('admits while counter + cost fits the client budget, then refuses until next month', async () => {
      const store = await newStore();
      const client = { ...roomy, budgetNanos: 3_000 };
      admitted(await store.admit(request({ client, costNanos: 1_000 })));
      admitted(await store.admit(request({ client, costNanos: 2_000 }))); // exactly the budget
      const refusal = refused(await store.admit(request({ client, costNanos: 1 })));
      expect(refusal.reason).toBe('client_budget');
      const nextMonth = Date.UTC(2026, 3, 1);
      expect(refusal.retryAfterSeconds).toBe(Math.ceil((nextMonth - clock.ms) / 1000));
    });

    it('refuses on the stage budget across clients', async () => {
      const store = await newStore();
      const stageLimits = { ...roomy, budgetNanos: 5_000 };
      admitted(await store.admit(request({ clientId: 'a', stage: stageLimits, costNanos: 4_000 })));
      expect(
        refused(await store.admit(request({ clientId: 'b', stage: stageLimits, costNanos: 2_000 }))).reason,
      ).toBe('stage_budget');
      admitted(await store.admit(request({ clientId: 'b', stage: stageLimits, costNanos: 1_000 })));
    });

    it('reserves nothing when any check refuses', async () => {
      const store = await newStore();
      const client = { ...roomy, rpm: 10, tpm: 1_000, budgetNanos: 1_000 };
      admitted(await store.admit(request({ client, tokens: 100, costNanos: 600 })));
      refused(await store.admit(request({ client, tokens: 500, costNanos: 600 })));
      const next = admitted(await store.admit(request({ client, tokens: 100, costNanos: 400 })));
      expect(next.rateLimit).toMatchObject({ remainingRequests: 8, remainingTokens: 800 });
      expect(await store.monthToDateSpendNanos()).toBe(1_000);
    });

    it('starts a new month at 00:00 UTC, and settles a ticket into the month it was reserved in', async () => {
      clock.ms = Date.UTC(2026, 0, 31, 23, 59, 50);
      const store = await newStore();
      const client = { ...roomy, budgetNanos: 1_000 };
      const { ticket } = admitted(await store.admit(request({ client, costNanos: 1_000 })));
      expect(ticket.month).toBe('2026-01');
      const refusal = refused(await store.admit(request({ client, costNanos: 1_000 })));
      expect(refusal.reason).toBe('client_budget');
      expect(refusal.retryAfterSeconds).toBe(10);

      clock.ms = Date.UTC(2026, 1, 1, 0, 0, 0);
      const february = admitted(await store.admit(request({ client, costNanos: 600 })));
      expect(february.ticket.month).toBe('2026-02');
      // January's ticket settles into January: February's spend and room stay as they are.
      await store.settle(ticket, { tokens: ticket.tokens, costNanos: 100 });
      expect(await store.monthToDateSpendNanos()).toBe(600);
      expect(refused(await store.admit(request({ client, costNanos: 401 }))).reason).toBe('client_budget');
      admitted(await store.admit(request({ client, costNanos: 400 })));
    });

    it('admits exactly as many concurrent requests as the budget fits, across replicas', async () => {
      // Five store instances play five gateway replicas sharing the backend (for Redis).
      const replicas =
        factory === memoryFactory
          ? [await newStore()]
          : await Promise.all(Array.from({ length: 5 }, () => newStore()));
      const client = { ...roomy, budgetNanos: 10_000 };
      const decisions = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          replicas[i % replicas.length].admit(request({ client, costNanos: 1_000 })),
        ),
      );
      expect(decisions.filter((d) => d.ok)).toHaveLength(10);
      expect(decisions.filter((d) => !d.ok && d.reason === 'client_budget')).toHaveLength(40);
      expect(decisions.every((d) => !d.degraded)).toBe(true);
      expect(await replicas[0].monthToDateSpendNanos()).toBe(10_000);
    });
  });

  describe('cache', () => {
    it('returns the entry under the cache key in the admission, and null on a miss or without a key', async () => {
      const store = await newStore();
      await store.cacheSet('req-1', '{"id":"chatcmpl-1"}', 60);
      expect(admitted(await store.admit(request({ cacheKey: 'req-1' }))).cached).toBe('{"id":"chatcmpl-1"}');
      expect(admitted(await store.admit(request({ cacheKey: 'req-2' }))).cached).toBeNull();
      expect(admitted(await store.admit(request())).cached).toBeNull();
    });

    it('reserves only the request for a hit: no tokens, no cost, and a ticket with nothing to settle', async () => {
      const store = await newStore();
      await store.cacheSet('req-1', '{"id":"chatcmpl-1"}', 60);
      const hit = admitted(await store.admit(request({ cacheKey: 'req-1', tokens: 500, costNanos: 5_000 })));
      expect(hit.cached).toBe('{"id":"chatcmpl-1"}');
      expect(hit.ticket).toMatchObject({ tokens: 0, costNanos: 0 });
      expect(hit.rateLimit).toMatchObject({
        remainingRequests: roomy.rpm - 1,
        remainingTokens: roomy.tpm,
        resetTokensMs: 0,
      });
      expect(await store.monthToDateSpendNanos()).toBe(0);
      // A miss right after still finds every token and the whole budget.
      const miss = admitted(await store.admit(request({ cacheKey: 'req-2', tokens: 500, costNanos: 5_000 })));
      expect(miss.cached).toBeNull();
      expect(miss.ticket).toMatchObject({ tokens: 500, costNanos: 5_000 });
      expect(miss.rateLimit).toMatchObject({
        remainingRequests: roomy.rpm - 2,
        remainingTokens: roomy.tpm - 500,
      });
      expect(await store.monthToDateSpendNanos()).toBe(5_000);
    });

    it('serves a hit when tokens or the budget would refuse a call upstream, but not past the request limit', async () => {
      const store = await newStore();
      const client = { rpm: 3, tpm: 100, budgetNanos: 1_000 };
      admitted(await store.admit(request({ client, tokens: 100, costNanos: 1_000 })));
      expect(refused(await store.admit(request({ client, tokens: 100, costNanos: 1_000 }))).reason).toMatch(
        /^(tokens|client_budget)$/,
      );
      await store.cacheSet('req-1', 'cached', 60);
      const hit = admitted(
        await store.admit(request({ client, cacheKey: 'req-1', tokens: 100, costNanos: 1_000 })),
      );
      expect(hit.cached).toBe('cached');
      expect(hit.rateLimit).toMatchObject({ remainingRequests: 1, remainingTokens: 0 });
      admitted(await store.admit(request({ client, cacheKey: 'req-1', tokens: 100, costNanos: 1_000 })));
      const refusal = refused(
        await store.admit(request({ client, cacheKey: 'req-1', tokens: 100, costNanos: 1_000 })),
      );
      expect(refusal.reason).toBe('requests');
      expect(refusal.retryAfterSeconds).toBe(20);
      expect(await store.monthToDateSpendNanos()).toBe(1_000);
    });

    it('stores the entry given with a settlement, also when there is nothing to correct', async () => {
      const store = await newStore();
      const miss = admitted(await store.admit(request({ cacheKey: 'req-1', tokens: 500, costNanos: 5_000 })));
      expect(miss.cached).toBeNull();
      await store.settle(
        miss.ticket,
        { tokens: 50, costNanos: 500 },
        { key: 'req-1', value: 'J{}', ttlSeconds: 60 },
      );
      expect(await store.monthToDateSpendNanos()).toBe(500);
      expect(admitted(await store.admit(request({ cacheKey: 'req-1' }))).cached).toBe('J{}');

      const exact = admitted(await store.admit(request({ cacheKey: 'req-2', tokens: 10, costNanos: 100 })));
      await store.settle(
        exact.ticket,
        { tokens: 10, costNanos: 100 },
        { key: 'req-2', value: 'S', ttlSeconds: 60 },
      );
      expect(admitted(await store.admit(request({ cacheKey: 'req-2' }))).cached).toBe('S');
      expect(await store.monthToDateSpendNanos()).toBe(600);
    });

    it('keeps entries per stage', async () => {
      const a = await newStore();
      const b = await newStore({ stage: uniqueStage() });
      await a.cacheSet('same-key', 'from-a', 60);
      expect(admitted(await b.admit(request({ cacheKey: 'same-key' }))).cached).toBeNull();
    });
  });

  it('keeps the counters of two stages apart', async () => {
    const a = await newStore();
    const b = await newStore({ stage: uniqueStage() });
    const limits = { rpm: 1, tpm: 100, budgetNanos: 1_000 };
    admitted(await a.admit(request({ client: limits, stage: limits, tokens: 100, costNanos: 1_000 })));
    refused(await a.admit(request({ client: limits, stage: limits, tokens: 100, costNanos: 1_000 })));
    admitted(await b.admit(request({ client: limits, stage: limits, tokens: 100, costNanos: 1_000 })));
    expect(await a.monthToDateSpendNanos()).toBe(1_000);
    expect(await b.monthToDateSpendNanos()).toBe(1_000);
  });

  it('counts the exact limit even when 60 s / limit is not a whole number of ms', async () => {
    const store = await newStore();
    const client = { ...roomy, rpm: 7, tpm: 7 };
    for (let i = 0; i < 7; i++) admitted(await store.admit(request({ client, tokens: 1 })));
    expect(refused(await store.admit(request({ client, tokens: 1 }))).reason).toBe('requests');
  });

  describe('object owners', () => {
    it('records, replaces and forgets who owns an object', async () => {
      const a = await newStore();
      expect(await a.owners.lookup('resp_1')).toBeUndefined();
      await a.owners.record('resp_1', { clientId: 'app', contextTokens: 1_234 }, 3600);
      expect(await a.owners.lookup('resp_1')).toEqual({ clientId: 'app', contextTokens: 1_234 });
      await a.owners.record('resp_1', { clientId: 'app' }, 0);
      expect(await a.owners.lookup('resp_1')).toEqual({ clientId: 'app' });
      await a.owners.forget('resp_1');
      expect(await a.owners.lookup('resp_1')).toBeUndefined();
    });

    it('grows a context exactly while the revision it read is current, else by what was added', async () => {
      const a = await newStore();
      await a.owners.record('conv_1', { clientId: 'app', contextTokens: 100 }, 0);
      // A turn that read revision 0, with nothing in between: the usage's figure replaces the estimate.
      await a.owners.extend('conv_1', { addedTokens: 50, exact: { revision: 0, tokens: 130 } });
      expect(await a.owners.lookup('conv_1')).toEqual({ clientId: 'app', contextTokens: 130, revision: 1 });
      // Another turn also read revision 0: it grows by what it added, never back to a smaller figure.
      await a.owners.extend('conv_1', { addedTokens: 50, exact: { revision: 0, tokens: 120 } });
      expect(await a.owners.lookup('conv_1')).toEqual({ clientId: 'app', contextTokens: 180, revision: 2 });
      await a.owners.extend('conv_1', { addedTokens: 10_000_000 });
      expect((await a.owners.lookup('conv_1'))?.contextTokens).toBe(CONTEXT_WINDOW_TOKENS);
    });

    it('keeps an unknown context unknown, and extends nothing absent', async () => {
      const a = await newStore();
      await a.owners.record('resp_1', { clientId: 'app' }, 3600);
      await a.owners.extend('resp_1', { addedTokens: 5, exact: { revision: 0, tokens: 9 } });
      expect(await a.owners.lookup('resp_1')).toEqual({ clientId: 'app', revision: 1 });
      await a.owners.extend('conv_absent', { addedTokens: 5 });
      expect(await a.owners.lookup('conv_absent')).toBeUndefined();
    });

    it('loses no growth when replicas extend one conversation at once', async () => {
      const a = await newStore();
      // Two memory stores share nothing: there, one store takes every extension.
      const b = factory.name === 'MemoryStore' ? a : await newStore();
      await a.owners.record('conv_2', { clientId: 'app', contextTokens: 0 }, 0);
      await Promise.all(
        Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).owners.extend('conv_2', { addedTokens: 7 })),
      );
      expect(await b.owners.lookup('conv_2')).toEqual({ clientId: 'app', contextTokens: 140, revision: 20 });
    });

    it('keeps the owners of one stage apart from another', async () => {
      const a = await newStore();
      const other = await newStore({ stage: uniqueStage() });
      await a.owners.record('conv_1', { clientId: 'app' }, 60);
      expect(await other.owners.lookup('conv_1')).toBeUndefined();
    });
  });

  describe('pending background responses', () => {
    const entry = (id: string, heldAt: number) => ({
      id,
      clientId: 'app',
      ticket: {
        clientId: 'app',
        tokens: 500,
        costNanos: 1_000,
        month: '2026-01',
        client: roomy,
        stage: roomy,
      },
      price: { inputUsdPer1M: 0.15, outputUsdPer1M: 0.6 },
      worstCase: { promptTokens: 400, cachedPromptTokens: 0, completionTokens: 100, costNanos: 1_000 },
      unanswered: 0,
      turn: { id: 'conv_1', revision: 2, ownPromptTokens: 40 },
      heldAt,
    });

    it('holds, lists oldest first, and hands each entry to one claim only', async () => {
      const a = await newStore();
      await a.pending.hold(entry('resp_b', 2));
      await a.pending.hold(entry('resp_a', 1));
      expect((await a.pending.list(10)).map((e) => e.id)).toEqual(['resp_a', 'resp_b']);
      expect(await a.pending.list(1)).toHaveLength(1);
      expect(await a.pending.claim('resp_a')).toEqual(entry('resp_a', 1));
      expect(await a.pending.claim('resp_a')).toBeUndefined();
      expect((await a.pending.list(10)).map((e) => e.id)).toEqual(['resp_b']);
      expect(await a.pending.claim('resp_never')).toBeUndefined();
    });

    it('lets exactly one of many concurrent claims, from two replicas, win', async () => {
      const a = await newStore();
      const b = factory.name === 'MemoryStore' ? a : await newStore();
      await a.pending.hold(entry('resp_c', 1));
      const claims = await Promise.all(
        Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).pending.claim('resp_c')),
      );
      expect(claims.filter((c) => c !== undefined)).toHaveLength(1);
      expect(await b.pending.list(10)).toEqual([]);
    });
  });
});
