import type { FastifyBaseLogger } from 'fastify';
import type { ClientConfig } from '../../../runtime/gateway-config';
import { nanosToUsd } from '../../../runtime/pricing';
import { writeRecord, type RequestRecord } from '../../../service/http/request-record';
import type { CallResult, CallTrace } from '../../../service/pipeline/model-call';
import { GatewayMetrics, type RequestMetrics } from '../../../service/telemetry/metrics';

const CLIENT: ClientConfig = {
  id: 'app-a',
  keySha256: 'f'.repeat(64),
  rpm: 60,
  tpm: 10_000,
  monthlyBudgetUsd: 25,
};

/** A streamed call that completed, with every field of the trace set. */
const STREAM_TRACE: CallTrace = {
  model: 'gpt-4o-mini',
  cache: 'MISS',
  metered: { promptTokens: 12, cachedPromptTokens: 5, completionTokens: 34, costNanos: 5_600 },
  budgetExceeded: false,
  attempts: { throttled: 1, errors: 2, unanswered: 0 },
  upstreamMs: 250,
  timeToFirstTokenMs: 87.6,
  streamOutcome: 'complete',
};

interface LogCall {
  readonly obj: Record<string, unknown>;
  readonly msg: string;
}

interface EmfLine {
  readonly _aws: { readonly CloudWatchMetrics: Array<{ readonly Dimensions: string[][] }> };
  readonly [field: string]: unknown;
}

/** GatewayMetrics over an array of EMF lines and a logger that keeps its `info` calls. */
function harness() {
  const lines: string[] = [];
  const metrics = new GatewayMetrics({ stage: 'test', write: (line) => lines.push(line), now: () => 1_000 });
  const recorded: RequestMetrics[] = [];
  const record = metrics.record.bind(metrics);
  metrics.record = (m) => {
    recorded.push(m);
    record(m);
  };
  const logs: LogCall[] = [];
  const log = {
    info: (obj: Record<string, unknown>, msg: string) => logs.push({ obj, msg }),
  } as unknown as FastifyBaseLogger;
  /** The EMF lines of everything recorded so far, by their dimension names joined with '+'. */
  const flush = (): Record<string, EmfLine> => {
    lines.length = 0;
    metrics.flush();
    const byDimensions: Record<string, EmfLine> = {};
    for (const line of lines) {
      const emf = JSON.parse(line) as EmfLine;
      byDimensions[emf._aws.CloudWatchMetrics[0].Dimensions[0].join('+')] = emf;
    }
    return byDimensions;
  };
  /** The log line's fields as pino writes them (undefined fields dropped). */
  const logged = (i = 0) => JSON.parse(JSON.stringify(logs[i].obj)) as Record<string, unknown>;
  return { sinks: { metrics, log }, recorded, logs, flush, logged };
}

/** A call promise the test settles. */
function deferredCall() {
  let resolve!: (r: CallResult) => void;
  const call = new Promise<CallResult>((r) => (resolve = r));
  return { call, resolve };
}

/** Lets the record's `then` run. */
const settled = () => new Promise<void>((r) => setImmediate(r));

describe('writeRecord', () => {
  describe('without a model call', () => {
    it('writes the metrics entry and the log line at once, with zero tokens', () => {
      const h = harness();
      const record: RequestRecord = { started: 0, method: 'GET', client: CLIENT, route: '/v1/models' };
      writeRecord(h.sinks, record, { status: 200, latencyMs: 12.345 });

      expect(h.recorded).toEqual([
        {
          model: undefined,
          clientId: 'app-a',
          status: 200,
          latencyMs: 12.345,
          timeToFirstTokenMs: undefined,
          upstreamLatencyMs: undefined,
          promptTokens: 0,
          cachedPromptTokens: 0,
          completionTokens: 0,
          costNanos: 0,
          cache: undefined,
          budgetExceeded: false,
          upstream429: 0,
          upstreamErrors: 0,
        },
      ]);
      expect(h.logs).toHaveLength(1);
      expect(h.logs[0].msg).toBe('request completed');
      expect(h.logged()).toEqual({
        method: 'GET',
        path: '/v1/models',
        status: 200,
        client: 'app-a',
        latencyMs: 12.3,
        promptTokens: 0,
        cachedPromptTokens: 0,
        completionTokens: 0,
      });
    });

    it('gives EMF lines for the stage and the client, with zero tokens and cost', () => {
      const h = harness();
      writeRecord(
        h.sinks,
        { started: 0, method: 'GET', client: CLIENT, route: '/v1/models' },
        { status: 200, latencyMs: 12.345 },
      );
      const emf = h.flush();
      expect(Object.keys(emf).sort()).toEqual(['Stage', 'Stage+Client']);
      expect(emf.Stage).toMatchObject({
        Stage: 'test',
        Requests: 1,
        PromptTokens: 0,
        CompletionTokens: 0,
        CostUsd: 0,
        CacheHits: 0,
        CacheMisses: 0,
        Throttled: 0,
        Upstream429: 0,
        UpstreamErrors: 0,
        Errors5xx: 0,
        BudgetExceeded: 0,
        Latency: { Values: [12], Counts: [1], Min: 12.345, Max: 12.345, Sum: 12.345, Count: 1 },
      });
      expect(emf.Stage.UpstreamLatency).toBeUndefined();
      expect(emf.Stage.TimeToFirstToken).toBeUndefined();
      expect(emf['Stage+Client']).toMatchObject({ Stage: 'test', Client: 'app-a', Requests: 1 });
    });

    it('logs path unknown and no client for an unauthenticated request without a route', () => {
      const h = harness();
      writeRecord(h.sinks, { started: 0, method: 'POST' }, { status: 401, latencyMs: 0.04 });
      expect(h.logged()).toEqual({
        method: 'POST',
        path: 'unknown',
        status: 401,
        latencyMs: 0,
        promptTokens: 0,
        cachedPromptTokens: 0,
        completionTokens: 0,
      });
      expect(Object.keys(h.flush())).toEqual(['Stage']);
    });

    it('counts a 5xx close as an error and a 429 close as throttled', () => {
      const h = harness();
      writeRecord(h.sinks, { started: 0, method: 'POST' }, { status: 503, latencyMs: 1 });
      writeRecord(h.sinks, { started: 0, method: 'POST' }, { status: 429, latencyMs: 1 });
      writeRecord(h.sinks, { started: 0, method: 'POST' }, { status: 499, latencyMs: 1 });
      expect(h.flush().Stage).toMatchObject({ Requests: 3, Errors5xx: 1, Throttled: 1 });
    });
  });

  describe('with a model call', () => {
    it('writes nothing until the call has settled', async () => {
      const h = harness();
      const { call } = deferredCall();
      writeRecord(
        h.sinks,
        { started: 0, method: 'POST', client: CLIENT, route: '/v1/chat/completions', call },
        { status: 499, latencyMs: 40 },
      );
      await settled();
      expect(h.recorded).toEqual([]);
      expect(h.logs).toEqual([]);
      expect(h.flush()).toEqual({});
    });

    it("writes the trace's tokens, cost, model and cache once the call resolves", async () => {
      const h = harness();
      const { call, resolve } = deferredCall();
      writeRecord(
        h.sinks,
        { started: 0, method: 'POST', client: CLIENT, route: '/v1/chat/completions', call },
        { status: 200, latencyMs: 1_234.56 },
      );
      resolve({ trace: STREAM_TRACE });
      await settled();

      expect(h.recorded).toEqual([
        {
          model: 'gpt-4o-mini',
          clientId: 'app-a',
          status: 200,
          latencyMs: 1_234.56,
          timeToFirstTokenMs: 87.6,
          upstreamLatencyMs: 250,
          promptTokens: 12,
          cachedPromptTokens: 5,
          completionTokens: 34,
          costNanos: 5_600,
          cache: 'MISS',
          budgetExceeded: false,
          upstream429: 1,
          upstreamErrors: 2,
        },
      ]);
      expect(h.logs).toHaveLength(1);
      expect(h.logs[0].msg).toBe('request completed');
      expect(h.logged()).toEqual({
        method: 'POST',
        path: '/v1/chat/completions',
        status: 200,
        client: 'app-a',
        model: 'gpt-4o-mini',
        cache: 'MISS',
        stream: 'complete',
        latencyMs: 1_234.6,
        ttftMs: 88,
        promptTokens: 12,
        cachedPromptTokens: 5,
        completionTokens: 34,
        upstreamRetries: 3,
      });
    });

    it('gives EMF lines for the stage, the model and the client with the call’s figures', async () => {
      const h = harness();
      const { call, resolve } = deferredCall();
      writeRecord(
        h.sinks,
        { started: 0, method: 'POST', client: CLIENT, route: '/v1/chat/completions', call },
        { status: 200, latencyMs: 1_234.56 },
      );
      resolve({ trace: STREAM_TRACE });
      await settled();
      const emf = h.flush();
      expect(Object.keys(emf).sort()).toEqual(['Stage', 'Stage+Client', 'Stage+Model']);
      const figures = {
        Requests: 1,
        PromptTokens: 12,
        CompletionTokens: 34,
        CostUsd: nanosToUsd(5_600),
        CacheHits: 0,
        CacheMisses: 1,
        Upstream429: 1,
        UpstreamErrors: 2,
        Errors5xx: 0,
        BudgetExceeded: 0,
        Latency: { Values: [1200], Counts: [1], Min: 1_234.56, Max: 1_234.56, Sum: 1_234.56, Count: 1 },
        UpstreamLatency: { Values: [250], Counts: [1], Min: 250, Max: 250, Sum: 250, Count: 1 },
        TimeToFirstToken: { Values: [88], Counts: [1], Min: 87.6, Max: 87.6, Sum: 87.6, Count: 1 },
      };
      expect(emf.Stage).toMatchObject({ Stage: 'test', ...figures });
      expect(emf['Stage+Model']).toMatchObject({ Stage: 'test', Model: 'gpt-4o-mini', ...figures });
      expect(emf['Stage+Client']).toMatchObject({ Stage: 'test', Client: 'app-a', ...figures });
    });

    it('writes each record once', async () => {
      const h = harness();
      const { call, resolve } = deferredCall();
      writeRecord(
        h.sinks,
        { started: 0, method: 'POST', client: CLIENT, route: '/v1/embeddings', call },
        { status: 200, latencyMs: 5 },
      );
      resolve({ trace: STREAM_TRACE });
      await settled();
      await settled();
      expect(h.recorded).toHaveLength(1);
      expect(h.logs).toHaveLength(1);
    });

    it('records a cache hit and a spent budget', async () => {
      const h = harness();
      const call = Promise.resolve<CallResult>({
        trace: {
          model: 'gpt-4o-mini',
          cache: 'HIT',
          metered: { promptTokens: 0, cachedPromptTokens: 0, completionTokens: 0, costNanos: 0 },
          budgetExceeded: true,
          attempts: { throttled: 0, errors: 0, unanswered: 0 },
        },
      });
      writeRecord(
        h.sinks,
        { started: 0, method: 'POST', client: CLIENT, route: '/v1/chat/completions', call },
        { status: 429, latencyMs: 3 },
      );
      await settled();
      expect(h.flush().Stage).toMatchObject({
        CacheHits: 1,
        CacheMisses: 0,
        BudgetExceeded: 1,
        Throttled: 1,
      });
      expect(h.logged()).toEqual({
        method: 'POST',
        path: '/v1/chat/completions',
        status: 429,
        client: 'app-a',
        model: 'gpt-4o-mini',
        cache: 'HIT',
        latencyMs: 3,
        promptTokens: 0,
        cachedPromptTokens: 0,
        completionTokens: 0,
      });
    });
  });

  describe('a stream the caller left', () => {
    it('is recorded as status 499 even though its status line said 200', async () => {
      const h = harness();
      const call = Promise.resolve<CallResult>({
        trace: { ...STREAM_TRACE, streamOutcome: 'caller_aborted' },
      });
      writeRecord(
        h.sinks,
        { started: 0, method: 'POST', client: CLIENT, route: '/v1/chat/completions', call },
        { status: 200, latencyMs: 900 },
      );
      await settled();
      expect(h.recorded.map((m) => m.status)).toEqual([499]);
      expect(h.logged()).toMatchObject({ status: 499, stream: 'caller_aborted' });
    });

    it('keeps the closing status for the other stream outcomes', async () => {
      const h = harness();
      for (const streamOutcome of ['complete', 'upstream_failed'] as const) {
        const call = Promise.resolve<CallResult>({ trace: { ...STREAM_TRACE, streamOutcome } });
        writeRecord(
          h.sinks,
          { started: 0, method: 'POST', route: '/v1/chat/completions', call },
          { status: 200, latencyMs: 1 },
        );
      }
      await settled();
      expect(h.recorded.map((m) => m.status)).toEqual([200, 200]);
      expect(h.logs.map((l) => l.obj.status)).toEqual([200, 200]);
    });
  });

  describe('the log line', () => {
    async function logOf(trace: CallTrace, latencyMs = 10): Promise<Record<string, unknown>> {
      const h = harness();
      const call = Promise.resolve<CallResult>({ trace });
      writeRecord(
        h.sinks,
        { started: 0, method: 'POST', client: CLIENT, route: '/v1/chat/completions', call },
        { status: 200, latencyMs },
      );
      await settled();
      return h.logged();
    }

    it.each([
      [12.345, 12.3],
      [12.36, 12.4],
      [99.96, 100],
      [0.04, 0],
      [7, 7],
    ])('rounds latencyMs %p to %p (0.1 ms)', async (latencyMs, expected) => {
      expect((await logOf(STREAM_TRACE, latencyMs)).latencyMs).toBe(expected);
    });

    it.each([
      [87.6, 88],
      [87.4, 87],
      [0.4, 0],
    ])('rounds ttftMs %p to %p (whole ms)', async (timeToFirstTokenMs, expected) => {
      expect((await logOf({ ...STREAM_TRACE, timeToFirstTokenMs })).ttftMs).toBe(expected);
    });

    it('has no ttftMs when the call had no first token', async () => {
      const log = await logOf({ ...STREAM_TRACE, timeToFirstTokenMs: undefined });
      expect(Object.keys(log)).not.toContain('ttftMs');
    });

    it.each([
      [{ throttled: 0, errors: 0, unanswered: 0 }, undefined],
      [{ throttled: 2, errors: 0, unanswered: 0 }, 2],
      [{ throttled: 0, errors: 1, unanswered: 0 }, 1],
      [{ throttled: 3, errors: 4, unanswered: 0 }, 7],
    ])('with attempts %j has upstreamRetries %p', async (attempts, expected) => {
      const log = await logOf({ ...STREAM_TRACE, attempts });
      expect(log.upstreamRetries).toBe(expected);
      expect(Object.keys(log).includes('upstreamRetries')).toBe(expected !== undefined);
    });

    it('has only the record’s fields, never the client’s key hash or limits', async () => {
      const h = harness();
      const call = Promise.resolve<CallResult>({ trace: STREAM_TRACE });
      const record: RequestRecord = {
        started: 0,
        method: 'POST',
        client: CLIENT,
        route: '/v1/chat/completions',
        call,
        abort: new AbortController(),
      };
      writeRecord(h.sinks, record, { status: 200, latencyMs: 10 });
      await settled();
      expect(Object.keys(h.logs[0].obj).sort()).toEqual(
        [
          'method',
          'path',
          'status',
          'client',
          'model',
          'cache',
          'stream',
          'latencyMs',
          'ttftMs',
          'promptTokens',
          'cachedPromptTokens',
          'completionTokens',
          'upstreamRetries',
        ].sort(),
      );
      const text = JSON.stringify(h.logs[0].obj);
      expect(text).not.toContain(CLIENT.keySha256);
      expect(text).not.toContain('monthlyBudgetUsd');
      expect(text).not.toContain('costNanos');
      expect(text).not.toContain('upstreamMs');
    });
  });
});
