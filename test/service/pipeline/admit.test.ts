import { MemoryObjectOwners } from '../../../service/store/object-owners';
import { MemoryPendingEntries } from '../../../service/store/pending-entries';
import type { PendingBatch, PendingResponse } from '../../../service/store/types';
import { parseGatewayConfig, type GatewayConfig } from '../../../runtime/gateway-config';
import { createRequestPolicy, type PreparedCall } from '../../../service/endpoints';
import { chatCompletions } from '../../../service/endpoints/chat-completions';
import { GatewayError } from '../../../service/errors';
import { admit, AdmissionLimits, refusal } from '../../../service/pipeline/admit';
import { MemoryStore } from '../../../service/store';
import type {
  AdmissionDecision,
  AdmissionRequest,
  GatewayStore,
  RateLimitSnapshot,
  RejectReason,
  Ticket,
} from '../../../service/store/types';
import { MID_MONTH_MS, TestClock } from '../../support/clock';
import { chatBody, testConfigDocument } from '../../support/gateway-harness';

/** A store that answers every admission with `decision` and records what it was asked. */
class StubStore implements GatewayStore {
  readonly owners = new MemoryObjectOwners();
  readonly pending = new MemoryPendingEntries<PendingResponse>();
  readonly batches = new MemoryPendingEntries<PendingBatch>();
  readonly admissions: AdmissionRequest[] = [];
  constructor(public decision: AdmissionDecision) {}
  async admit(request: AdmissionRequest): Promise<AdmissionDecision> {
    this.admissions.push(request);
    return this.decision;
  }
  async settle(): Promise<void> {}
  async cacheSet(): Promise<void> {}
  async monthToDateSpendNanos(): Promise<number | undefined> {
    return 0;
  }
  async close(): Promise<void> {}
}

const clientsWith = (id: string, patch: Record<string, unknown>) =>
  (testConfigDocument().clients as Array<Record<string, unknown>>).map((c) =>
    c.id === id ? { ...c, ...patch } : c,
  );

const configOf = (patch: Record<string, unknown> = {}): GatewayConfig =>
  parseGatewayConfig(testConfigDocument(patch));

/** A prepared chat call of 10 prompt tokens (estimate) and the default 100 completion tokens. */
const prepare = (config: GatewayConfig, extra: Record<string, unknown> = {}): PreparedCall =>
  chatCompletions.prepare({
    policy: createRequestPolicy(config),
    client: { id: 'app' },
    body: chatBody('Say hello', extra),
  });

const SNAPSHOT: RateLimitSnapshot = {
  limitRequests: 1000,
  remainingRequests: 0,
  limitTokens: 1_000_000,
  remainingTokens: 5,
  resetRequestsMs: 1500,
  resetTokensMs: 61_000,
};

const SNAPSHOT_HEADERS = {
  'x-ratelimit-limit-requests': '1000',
  'x-ratelimit-remaining-requests': '0',
  'x-ratelimit-reset-requests': '2s',
  'x-ratelimit-limit-tokens': '1000000',
  'x-ratelimit-remaining-tokens': '5',
  'x-ratelimit-reset-tokens': '1m1s',
};

const ticketOf = (config: GatewayConfig): Ticket => {
  const limits = new AdmissionLimits(config);
  return {
    clientId: 'app',
    tokens: 110,
    costNanos: 61_500,
    month: '2026-06',
    client: limits.client('app'),
    stage: limits.stage,
  };
};

describe('AdmissionLimits', () => {
  it('takes the stage limits, its token burst and every client limit from the config, in store units', () => {
    const config = configOf({ rateLimits: { rpm: 500, tpm: 120_000, burstSeconds: 15 } });
    const limits = new AdmissionLimits(config);

    expect(limits.stage).toEqual({ rpm: 500, tpm: 120_000, budgetNanos: 1000e9, burstMs: 15_000 });
    expect(limits.stageTokenBurst).toBe(30_000);
    expect(limits.client('app')).toEqual({ rpm: 1000, tpm: 1_000_000, budgetNanos: 100e9 });
    expect(limits.client('limited')).toEqual({ rpm: 1000, tpm: 1_000_000, budgetNanos: 100e9 });
  });

  it('defaults the stage to the sum of the clients, with the whole minute as its burst', () => {
    const limits = new AdmissionLimits(configOf());

    expect(limits.stage).toEqual({ rpm: 3000, tpm: 3_000_000, budgetNanos: 1000e9, burstMs: 60_000 });
    expect(limits.stageTokenBurst).toBe(3_000_000);
  });
});

describe('admit', () => {
  const okDecision = (cached: string | null, degraded = false): AdmissionDecision => ({
    ok: true,
    ticket: ticketOf(configOf()),
    rateLimit: SNAPSHOT,
    cached,
    degraded,
  });

  it('asks the store for the estimate, the worst-case cost and the cache key in one admission', async () => {
    const config = configOf();
    const limits = new AdmissionLimits(config);
    const store = new StubStore(okDecision(null));
    const client = config.clients[0];
    await admit({ limits, store, client, prepared: prepare(config), cacheKey: 'cache:k' });
    await admit({ limits, store, client, prepared: prepare(config) });

    // 10 prompt tokens x $0.15/1M + 100 completion tokens x $0.60/1M = 61 500 nano-dollars.
    expect(store.admissions[0]).toEqual({
      clientId: 'app',
      client: limits.client('app'),
      stage: limits.stage,
      tokens: 110,
      costNanos: 61_500,
      cacheKey: 'cache:k',
    });
    expect(store.admissions[1]).not.toHaveProperty('cacheKey');
  });

  it('refuses up front with 400 request_too_large a call over the whole client TPM', async () => {
    const config = configOf({ clients: clientsWith('app', { tpm: 100 }) });
    const store = new StubStore(okDecision(null));
    const admitted = admit({
      limits: new AdmissionLimits(config),
      store,
      client: config.clients[0],
      prepared: prepare(config, { model: 'fast' }),
    });

    await expect(admitted).rejects.toBeInstanceOf(GatewayError);
    await expect(admitted).rejects.toMatchObject({
      status: 400,
      type: 'invalid_request_error',
      code: 'request_too_large',
    });
    const message = await admitted.catch((e: Error) => e.message);
    expect(message).toContain('Request too large for fast on tokens per min (TPM) of this application');
    expect(message).toContain('Limit 100, Requested 110.');
    expect(store.admissions).toHaveLength(0);
  });

  it('admits a call of exactly the client TPM', async () => {
    const config = configOf({ clients: clientsWith('app', { tpm: 110 }) });
    const store = new StubStore(okDecision(null));
    const admitted = await admit({
      limits: new AdmissionLimits(config),
      store,
      client: config.clients[0],
      prepared: prepare(config),
    });

    expect(admitted.kind).toBe('reserved');
  });

  it('refuses up front with 400 request_too_large a call over the stage token burst', async () => {
    // 600 TPM with a 10 s burst: at most 100 tokens at once.
    const config = configOf({ rateLimits: { tpm: 600, burstSeconds: 10 } });
    const store = new StubStore(okDecision(null));
    const admitted = admit({
      limits: new AdmissionLimits(config),
      store,
      client: config.clients[0],
      prepared: prepare(config),
    });

    const error = (await admitted.catch((e: unknown) => e)) as GatewayError;
    expect(error).toMatchObject({ status: 400, code: 'request_too_large' });
    expect(error.message).toContain(
      'Request too large for gpt-4o-mini on tokens per min (TPM) of this gateway',
    );
    expect(error.message).toContain('Limit 100, Requested 110.');
    expect(store.admissions).toHaveLength(0);
  });

  it('returns a hit with the cached value and the rate-limit headers', async () => {
    const config = configOf();
    const store = new StubStore(okDecision('J{"cached":true}'));
    const admitted = await admit({
      limits: new AdmissionLimits(config),
      store,
      client: config.clients[0],
      prepared: prepare(config, { temperature: 0 }),
      cacheKey: 'cache:k',
    });

    expect(admitted).toEqual({ kind: 'hit', cached: 'J{"cached":true}', headers: SNAPSHOT_HEADERS });
  });

  it('returns a reservation of the store ticket, saying whether the store answered degraded', async () => {
    const config = configOf();
    const decision = okDecision(null, true);
    const admitted = await admit({
      limits: new AdmissionLimits(config),
      store: new StubStore(decision),
      client: config.clients[0],
      prepared: prepare(config),
    });

    expect(admitted.kind).toBe('reserved');
    if (admitted.kind !== 'reserved') return;
    expect(admitted.reservation.ticket).toBe((decision as { ticket: Ticket }).ticket);
    expect(admitted.degraded).toBe(true);
    expect(admitted.headers).toEqual(SNAPSHOT_HEADERS);
  });

  it('against a MemoryStore: reserves a miss, then a stored entry under the key is a hit', async () => {
    const config = configOf();
    const store = new MemoryStore({ now: new TestClock(MID_MONTH_MS).now });
    const call = {
      limits: new AdmissionLimits(config),
      store,
      client: config.clients[0],
      prepared: prepare(config, { temperature: 0 }),
      cacheKey: 'cache:k',
    };

    expect((await admit(call)).kind).toBe('reserved');
    expect(await store.monthToDateSpendNanos()).toBe(61_500);
    await store.cacheSet('cache:k', 'J{}', 60);
    const hit = await admit(call);
    expect(hit).toMatchObject({ kind: 'hit', cached: 'J{}' });
    expect(hit.headers['x-ratelimit-remaining-requests']).toBe('998');
    expect(await store.monthToDateSpendNanos()).toBe(61_500);
  });

  it.each<[RejectReason, number, string, string]>([
    ['requests', 2.2, 'requests', '3'],
    ['tokens', 0.1, 'tokens', '1'],
    ['client_budget', 86_400, 'insufficient_quota', '86400'],
    ['unavailable', 0, 'server_error', '1'],
  ])(
    'throws a store refusal for %s with the rate-limit headers and its own retry-after',
    async (reason, retryAfterSeconds, type, retryAfter) => {
      const config = configOf();
      const store = new StubStore({
        ok: false,
        reason,
        retryAfterSeconds,
        rateLimit: SNAPSHOT,
        degraded: false,
      });
      const error = (await admit({
        limits: new AdmissionLimits(config),
        store,
        client: config.clients[0],
        prepared: prepare(config),
      }).catch((e: unknown) => e)) as GatewayError;

      expect(error).toBeInstanceOf(GatewayError);
      expect(error.type).toBe(type);
      expect(error.headers).toEqual({ ...SNAPSHOT_HEADERS, 'retry-after': retryAfter });
    },
  );
});

describe('refusal', () => {
  it('maps request and token limits to 429 rate_limit_exceeded with a whole-second retry-after', () => {
    const requests = refusal('requests', 2.2);
    expect(requests).toMatchObject({ status: 429, type: 'requests', code: 'rate_limit_exceeded' });
    expect(requests.message).toBe(
      'Rate limit reached for requests per minute (application or stage limit). Please try again in 3s.',
    );
    expect(requests.headers).toEqual({ 'retry-after': '3' });

    const tokens = refusal('tokens', 0);
    expect(tokens).toMatchObject({ status: 429, type: 'tokens', code: 'rate_limit_exceeded' });
    expect(tokens.message).toContain('Rate limit reached for tokens per minute');
    expect(tokens.headers).toEqual({ 'retry-after': '1' });
  });

  it('maps a spent budget to 429 insufficient_quota naming whose budget it is', () => {
    const client = refusal('client_budget', 3600);
    expect(client).toMatchObject({ status: 429, type: 'insufficient_quota', code: 'insufficient_quota' });
    expect(client.message).toContain('the application monthly budget is spent');
    expect(client.headers).toEqual({ 'retry-after': '3600' });

    const stage = refusal('stage_budget', 3600);
    expect(stage).toMatchObject({ status: 429, code: 'insufficient_quota' });
    expect(stage.message).toContain('the gateway monthly budget is spent');
  });

  it('maps an unavailable store to 503 service_unavailable', () => {
    const error = refusal('unavailable', 4.5);
    expect(error).toMatchObject({ status: 503, type: 'server_error', code: 'service_unavailable' });
    expect(error.message).toBe('Rate limit and budget state is unavailable; the request was not sent.');
    expect(error.headers).toEqual({ 'retry-after': '5' });
  });
});
