import OpenAI from 'openai';
import { createHash } from 'node:crypto';
import { chatBody, GatewayHarness, KEYS } from '../../support/gateway-harness';
import { MemoryStore } from '../../../service/store';
import { flowingClock } from '../../support/clock';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const client = (id: string, key: string, extra: Record<string, unknown>) => ({
  id,
  keySha256: sha(key),
  rpm: 1000,
  tpm: 1_000_000,
  monthlyBudgetUsd: 1,
  ...extra,
});

type ApiError = InstanceType<typeof OpenAI.APIError>;

describe('gateway rate limits and budgets', () => {
  it('refuses the request over the client RPM with 429 rate_limit_exceeded, Retry-After and OpenAI headers', async () => {
    const h = await GatewayHarness.start({ config: { clients: [client('app', KEYS.app, { rpm: 2 })] } });
    try {
      const sdk = h.client();
      const { response } = await sdk.chat.completions.create(chatBody()).withResponse();
      expect(response.headers.get('x-ratelimit-limit-requests')).toBe('2');
      expect(response.headers.get('x-ratelimit-remaining-requests')).toBe('1');
      expect(Number(response.headers.get('x-ratelimit-limit-tokens'))).toBe(1_000_000);
      expect(Number(response.headers.get('x-ratelimit-remaining-tokens'))).toBeLessThan(1_000_000);
      await sdk.chat.completions.create(chatBody());
      const err = (await sdk.chat.completions.create(chatBody()).catch((e: unknown) => e)) as ApiError;
      expect(err).toBeInstanceOf(OpenAI.RateLimitError);
      expect(err).toMatchObject({ code: 'rate_limit_exceeded', type: 'requests' });
      expect(Number(err.headers?.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(err.headers?.get('x-ratelimit-remaining-requests')).toBe('0');
      expect(h.fake.received).toBe(2);
    } finally {
      await h.stop();
    }
  });

  it('refuses up front, with 400 request_too_large, a request whose token reservation exceeds the whole TPM', async () => {
    const h = await GatewayHarness.start({ config: { clients: [client('app', KEYS.app, { tpm: 500 })] } });
    try {
      // Reservation: prompt estimate ceil((1 + 4 x 3) / 3) + 3 = 8 tokens, plus max_tokens 900.
      const err = (await h
        .client()
        .chat.completions.create(chatBody('x', { max_tokens: 900 }))
        .catch((e: unknown) => e)) as ApiError;
      expect(err).toBeInstanceOf(OpenAI.BadRequestError);
      expect(err).toMatchObject({
        status: 400,
        type: 'invalid_request_error',
        code: 'request_too_large',
        param: null,
      });
      expect(err.error).toMatchObject({
        message: expect.stringContaining(
          'Request too large for gpt-4o-mini on tokens per min (TPM) of this application: Limit 500, Requested 908.',
        ),
      });
      expect(err.headers?.get('retry-after')).toBeNull();
      expect(h.fake.received).toBe(0);
      await expect(
        h.client().chat.completions.create(chatBody('x', { max_tokens: 50 })),
      ).resolves.toBeDefined();
      expect(h.fake.received).toBe(1);
    } finally {
      await h.stop();
    }
  });

  it('names the stage TPM when the request is larger than that', async () => {
    const h = await GatewayHarness.start({ config: { rateLimits: { rpm: 1000, tpm: 100 } } });
    try {
      const err = (await h
        .client()
        .chat.completions.create(chatBody('x', { max_tokens: 200, n: 2 }))
        .catch((e: unknown) => e)) as ApiError;
      expect(err).toMatchObject({ status: 400, code: 'request_too_large' });
      expect(err.message).toContain('of this gateway: Limit 100, Requested 408.');
    } finally {
      await h.stop();
    }
  });

  it('with a stage burst, sizes requests against one burst of the stage TPM and spreads requests', async () => {
    // 6 RPM and 300 TPM with 20 s of burst: 2 requests and 100 tokens at once, then one request per
    // 10 s (slow enough that no machine lets the third in by taking long over the first two).
    const h = await GatewayHarness.start({
      config: { rateLimits: { rpm: 6, tpm: 300, burstSeconds: 20 } },
    });
    try {
      const tooLarge = (await h
        .client()
        .chat.completions.create(chatBody('x', { max_tokens: 100 }))
        .catch((e: unknown) => e)) as ApiError;
      expect(tooLarge).toMatchObject({ status: 400, code: 'request_too_large' });
      expect(tooLarge.message).toContain('of this gateway: Limit 100, Requested 108.');

      await h.client().chat.completions.create(chatBody('a', { max_tokens: 10 }));
      await h.client().chat.completions.create(chatBody('b', { max_tokens: 10 }));
      const spread = (await h
        .client()
        .chat.completions.create(chatBody('c', { max_tokens: 10 }))
        .catch((e: unknown) => e)) as ApiError;
      expect(spread).toMatchObject({ status: 429, code: 'rate_limit_exceeded', type: 'requests' });
      const retryAfter = Number(spread.headers?.get('retry-after'));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(10);
      expect(h.fake.received).toBe(2);
    } finally {
      await h.stop();
    }
  });

  it('refuses with 429 (tokens) and Retry-After a request that fits the TPM but not what is left of it', async () => {
    const h = await GatewayHarness.start({ config: { clients: [client('app', KEYS.app, { tpm: 500 })] } });
    try {
      h.fake.enqueue({ usage: { prompt_tokens: 300, completion_tokens: 100 } });
      await h.client().chat.completions.create(chatBody('x', { max_tokens: 300 }));
      const err = (await h
        .client()
        .chat.completions.create(chatBody('x', { max_tokens: 300 }))
        .catch((e: unknown) => e)) as ApiError;
      expect(err).toMatchObject({ status: 429, code: 'rate_limit_exceeded', type: 'tokens' });
      expect(Number(err.headers?.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(h.fake.received).toBe(1);
    } finally {
      await h.stop();
    }
  });

  it('enforces the stage RPM across clients', async () => {
    const h = await GatewayHarness.start({ config: { rateLimits: { rpm: 1, tpm: 1_000_000 } } });
    try {
      await h.client(KEYS.app).chat.completions.create(chatBody());
      const err = await h
        .client(KEYS.other)
        .chat.completions.create(chatBody())
        .catch((e: unknown) => e);
      expect(err).toMatchObject({ status: 429, code: 'rate_limit_exceeded' });
    } finally {
      await h.stop();
    }
  });

  it('refuses with 429 insufficient_quota once the client budget cannot cover the worst case', async () => {
    // Worst case of a default request: ~10 prompt tokens x 150 + 100 completion tokens x 600 nano-dollars.
    const h = await GatewayHarness.start({
      config: { clients: [client('app', KEYS.app, { monthlyBudgetUsd: 0.00005 })] },
    });
    try {
      h.lines.length = 0;
      const err = await h
        .client()
        .chat.completions.create(chatBody())
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OpenAI.RateLimitError);
      expect(err).toMatchObject({ code: 'insufficient_quota', type: 'insufficient_quota' });
      expect(h.fake.received).toBe(0);
      // A smaller worst case fits.
      await expect(
        h.client().chat.completions.create(chatBody('x', { max_tokens: 10 })),
      ).resolves.toBeDefined();
      h.gateway.metrics.flush();
      const stageLine = h.logs().find((l) => l._aws && !('Model' in l) && !('Client' in l));
      expect(stageLine).toMatchObject({ BudgetExceeded: 1, Throttled: 1, Requests: 2 });
    } finally {
      await h.stop();
    }
  });

  it('refuses every client once the stage budget is spent', async () => {
    const h = await GatewayHarness.start({
      config: {
        budget: { monthlyUsd: 0.00005, notifyAtPercent: 80 },
        clients: [
          client('app', KEYS.app, { monthlyBudgetUsd: 0.00005 }),
          client('other', KEYS.other, { monthlyBudgetUsd: 0.00001 }),
        ],
      },
    });
    try {
      for (const key of [KEYS.app, KEYS.other]) {
        const err = await h
          .client(key)
          .chat.completions.create(chatBody())
          .catch((e: unknown) => e);
        expect(err).toMatchObject({ status: 429, code: 'insufficient_quota' });
      }
    } finally {
      await h.stop();
    }
  });

  it('settles the reservation to the actual usage x price, and concurrent requests never overspend', async () => {
    const store = new MemoryStore({ now: flowingClock });
    const budgetNanos = 200_000; // 0.0002 USD: a default request reserves ~61,500 and really costs ~7,000
    const h = await GatewayHarness.start({
      store,
      config: {
        budget: { monthlyUsd: 0.0002, notifyAtPercent: 80 },
        clients: [client('app', KEYS.app, { monthlyBudgetUsd: 0.0002 })],
      },
    });
    try {
      h.fake.enqueue({ usage: { prompt_tokens: 10, completion_tokens: 9 } });
      await h.client().chat.completions.create(chatBody());
      const actual = 10 * 150 + 9 * 600;
      await h.fake.waitFor(() => true);
      expect(await store.monthToDateSpendNanos()).toBe(actual);

      h.fake.behaviour = { ...h.fake.behaviour, delayMs: 50 };
      const results = await Promise.allSettled(
        Array.from({ length: 10 }, () => h.client().chat.completions.create(chatBody())),
      );
      const admitted = results.filter((r) => r.status === 'fulfilled').length;
      const refused = results.filter(
        (r) => r.status === 'rejected' && (r.reason as ApiError).code === 'insufficient_quota',
      ).length;
      expect(admitted + refused).toBe(10);
      expect(admitted).toBeGreaterThanOrEqual(2);
      expect(refused).toBeGreaterThanOrEqual(1);
      // Worst-case reservations: what was admitted always fits the budget once settled.
      expect(await store.monthToDateSpendNanos()).toBeLessThanOrEqual(budgetNanos);
    } finally {
      await h.stop();
    }
  });

  it('settles a stream the caller abandoned at its worst case (upstream may bill all of it), and a cache hit at zero', async () => {
    const store = new MemoryStore({ now: flowingClock });
    const h = await GatewayHarness.start({ store });
    try {
      h.fake.enqueue({ chunks: 100, chunkDelayMs: 20 });
      const controller = new AbortController();
      const stream = await h
        .client()
        .chat.completions.create({ ...chatBody(), stream: true }, { signal: controller.signal });
      let n = 0;
      for await (const _chunk of stream) if (++n === 3) controller.abort();
      await h.fake.waitFor(() => h.fake.aborted === 1);
      await h.fake.waitFor(() => h.lines.some((l) => l.includes('"caller_aborted"')));
      const spent = (await store.monthToDateSpendNanos())!;
      // No usage arrived: the prompt estimate (10 tokens at $0.15/1M) and the whole default output
      // cap (100 tokens at $0.60/1M), what admission reserved, in nano-dollars.
      expect(spent).toBe(10 * 150 + 100 * 600);

      await h.client().chat.completions.create(chatBody('hit me', { temperature: 0 }));
      const afterMiss = (await store.monthToDateSpendNanos())!;
      const { response } = await h
        .client()
        .chat.completions.create(chatBody('hit me', { temperature: 0 }))
        .withResponse();
      expect(response.headers.get('x-cache-status')).toBe('HIT');
      expect(await store.monthToDateSpendNanos()).toBe(afterMiss);
    } finally {
      await h.stop();
    }
  });

  it('serves a cache hit once the budget is spent (a hit costs nothing), while a miss is refused', async () => {
    const store = new MemoryStore({ now: flowingClock });
    const h = await GatewayHarness.start({ store, config: { clients: [client('app', KEYS.app, {})] } });
    try {
      await h.client().chat.completions.create(chatBody('cached', { temperature: 0 }));
      await h.fake.waitFor(() => true);
      // Spend the rest of the client's 1 USD budget.
      const spent = (await store.monthToDateSpendNanos())!;
      const limits = { rpm: 1000, tpm: 1_000_000, budgetNanos: 1_000_000_000 };
      const stage = { ...limits, budgetNanos: 1_000_000_000_000 };
      const spendAll = {
        clientId: 'app',
        client: limits,
        stage,
        tokens: 0,
        costNanos: 1_000_000_000 - spent,
      };
      expect(await store.admit(spendAll)).toMatchObject({ ok: true });

      const miss = await h
        .client()
        .chat.completions.create(chatBody('not cached', { temperature: 0 }))
        .catch((e: unknown) => e);
      expect(miss).toMatchObject({ status: 429, code: 'insufficient_quota' });
      const { response } = await h
        .client()
        .chat.completions.create(chatBody('cached', { temperature: 0 }))
        .withResponse();
      expect(response.status).toBe(200);
      expect(response.headers.get('x-cache-status')).toBe('HIT');
      expect(await store.monthToDateSpendNanos()).toBe(1_000_000_000);
      expect(h.fake.received).toBe(1);
    } finally {
      await h.stop();
    }
  });

  it('publishes spend and request metrics as EMF on flush', async () => {
    const h = await GatewayHarness.start();
    try {
      await h.client().chat.completions.create(chatBody());
      await h.client().chat.completions.create(chatBody('x', { temperature: 0 }));
      await h.client().chat.completions.create(chatBody('x', { temperature: 0 }));
      h.lines.length = 0;
      await h.gateway.flushMetrics();
      const emf = h.logs().filter((l) => l._aws);
      expect(emf).toHaveLength(3);
      const stage = emf.find((l) => !('Model' in l) && !('Client' in l))!;
      expect(stage).toMatchObject({ Stage: 'test', Requests: 3, CacheHits: 1, CacheMisses: 1 });
      expect(stage.MonthToDateSpendUsd).toBeGreaterThan(0);
      expect(stage.CostUsd).toBeCloseTo(stage.MonthToDateSpendUsd as number, 9);
      const byModel = emf.find((l) => l.Model === 'gpt-4o-mini')!;
      expect(
        (byModel._aws as { CloudWatchMetrics: Array<{ Dimensions: string[][] }> }).CloudWatchMetrics[0]
          .Dimensions,
      ).toEqual([['Stage', 'Model']]);
      expect(byModel.Latency).toMatchObject({ Count: 3 });
      expect(emf.find((l) => l.Client === 'app')).toMatchObject({ Requests: 3 });
    } finally {
      await h.stop();
    }
  });
});
