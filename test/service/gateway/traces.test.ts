/**
 * Agents SDK tracing through the gateway: `POST /v1/traces/ingest` goes upstream with the stage key
 * (never the caller's), counts toward RPM, is capped in size like any body, and bills nothing. The end
 * to end test runs a real Agents SDK agent whose trace exporter points at the gateway.
 */
import {
  Agent,
  BatchTraceProcessor,
  getGlobalTraceProvider,
  OpenAITracingExporter,
  run,
  setDefaultOpenAIClient,
  setOpenAIAPI,
  setTraceProcessors,
  setTracingDisabled,
} from '@openai/agents';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import type { ClientOptions } from 'openai';
import { costNanos } from '../../../runtime/pricing';
import { eventually } from '../../support/eventually';
import { GatewayHarness, KEYS, UPSTREAM_KEY } from '../../support/gateway-harness';

const MINI = { inputUsdPer1M: 0.15, outputUsdPer1M: 0.6 };
const sha = (s: string) => createHash('sha256').update(s).digest('hex');

/** A trace batch as the exporter sends it: one trace and one span. */
const batch = (traceId = 'trace_0123456789abcdef0123456789abcdef') => ({
  data: [
    { object: 'trace', id: traceId, workflow_name: 'Agent workflow', group_id: null, metadata: null },
    {
      object: 'trace.span',
      id: 'span_0123456789abcdef01234567',
      trace_id: traceId,
      parent_id: null,
      started_at: '2026-01-01T00:00:00.000Z',
      ended_at: '2026-01-01T00:00:01.000Z',
      span_data: { type: 'agent', name: 'Weather' },
      error: null,
    },
  ],
});

const ingest = (h: GatewayHarness, body: unknown, key: string = KEYS.app) =>
  fetch(`${h.url}/traces/ingest`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${key}`,
      'content-type': 'application/json',
      'openai-beta': 'traces=v1',
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

describe('POST /v1/traces/ingest', () => {
  let h: GatewayHarness;
  beforeAll(async () => {
    h = await GatewayHarness.start();
  });
  afterEach(() => h.fake.reset());
  afterAll(() => h.stop());

  it('forwards the batch as it came with the stage key and the beta header, billing nothing', async () => {
    const res = await ingest(h, batch());
    expect(res.status).toBe(204);
    const [sent] = h.fake.requestsTo('/v1/traces/ingest');
    expect(sent.apiKey).toBe(UPSTREAM_KEY);
    expect(sent.headers['openai-beta']).toBe('traces=v1');
    expect(sent.body).toEqual(batch());
    expect(h.fake.traceItems.map((t) => t.item.object)).toEqual(['trace', 'trace.span']);
    expect(h.fake.billed).toEqual([]);
    expect(await h.store.monthToDateSpendNanos()).toBe(0);
  });

  it('refuses a body that is not a batch with 400 naming data, sending nothing', async () => {
    const res = await ingest(h, { traces: [] });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { param: 'data', type: 'invalid_request_error' } });
    expect(h.fake.requestsTo('/v1/traces/ingest')).toHaveLength(0);
  });

  it('caps the body at limits.maxBodyBytes with 413, sending nothing', async () => {
    const big = batch();
    (big.data[1].span_data as Record<string, unknown>).output = 'x'.repeat(h.config.limits.maxBodyBytes);
    const res = await ingest(h, big);
    expect(res.status).toBe(413);
    expect((await res.json()) as unknown).toMatchObject({ error: { type: 'invalid_request_error' } });
    expect(h.fake.requestsTo('/v1/traces/ingest')).toHaveLength(0);
  });

  it('answers 404 to a client without the traces family, as for an unknown route', async () => {
    const res = await ingest(h, batch(), KEYS.limited);
    expect(res.status).toBe(404);
    expect(h.fake.requestsTo('/v1/traces/ingest')).toHaveLength(0);
  });

  it("relays upstream's 400 as is", async () => {
    const res = await ingest(h, { data: [{ object: 'nonsense' }] });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { type: 'invalid_request_error' } });
  });
});

describe('trace ingest and RPM', () => {
  it("counts each batch against the client's requests per minute", async () => {
    const h = await GatewayHarness.start({
      config: {
        clients: [
          {
            id: 'app',
            keySha256: sha(KEYS.app),
            rpm: 2,
            tpm: 1000,
            monthlyBudgetUsd: 1,
            apiFamilies: ['traces'],
          },
        ],
      },
    });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 3; i++) statuses.push((await ingest(h, batch())).status);
      expect(statuses).toEqual([204, 204, 429]);
      expect(h.fake.requestsTo('/v1/traces/ingest')).toHaveLength(2);
    } finally {
      await h.stop();
    }
  });
});

describe('an Agents SDK app whose trace exporter points at the gateway', () => {
  let h: GatewayHarness;
  beforeAll(async () => {
    h = await GatewayHarness.start();
    setDefaultOpenAIClient(agentsClient({ baseURL: h.url, apiKey: KEYS.app, maxRetries: 0 }));
    setOpenAIAPI('responses');
  });
  afterAll(async () => {
    setTracingDisabled(true);
    await h.stop();
  });

  it("lands its traces at OpenAI with the stage key, never the app's", async () => {
    // What docs/gateway.md tells an app to do: the exporter's endpoint is the gateway, its key the app's.
    const exporter = new OpenAITracingExporter({ endpoint: `${h.url}/traces/ingest`, apiKey: KEYS.app });
    setTraceProcessors([new BatchTraceProcessor(exporter)]);
    setTracingDisabled(false); // the SDK turns tracing off under NODE_ENV=test

    const agent = new Agent({ name: 'Greeter', instructions: 'Greet.', model: 'gpt-4o-mini' });
    const result = await run(agent, 'Hello');
    expect(result.finalOutput).toBe(h.fake.behaviour.text);
    await getGlobalTraceProvider().forceFlush();
    await eventually(() => h.fake.traceItems.some((t) => t.item.object === 'trace'));

    const items = h.fake.traceItems;
    expect(items.every((t) => t.apiKey === UPSTREAM_KEY)).toBe(true);
    expect(h.fake.requests.every((r) => r.apiKey !== KEYS.app)).toBe(true);
    const [trace] = items.filter((t) => t.item.object === 'trace');
    expect(trace.item.workflow_name).toBe('Agent workflow');
    const spans = items.filter((t) => t.item.object === 'trace.span');
    expect(spans.map((s) => (s.item.span_data as { type: string }).type)).toEqual(
      expect.arrayContaining(['agent', 'response']),
    );
    expect(spans.every((s) => s.item.trace_id === trace.item.id)).toBe(true);
    // Only the model call billed, and the budgets saw exactly that.
    expect(h.fake.billed.map((b) => b.endpoint)).toEqual(['responses']);
    await eventually(
      async () => (await h.store.monthToDateSpendNanos()) === costNanos(MINI, h.fake.billed[0].usage),
    );
  });
});

type AgentsClient = Parameters<typeof setDefaultOpenAIClient>[0];

/** A client of the `openai` copy the Agents SDK ships with, the one its default would be. */
function agentsClient(options: ClientOptions): AgentsClient {
  const requireFromAgents = createRequire(require.resolve('@openai/agents-openai'));
  const { OpenAI } = requireFromAgents('openai') as { OpenAI: new (o: ClientOptions) => AgentsClient };
  return new OpenAI(options);
}
