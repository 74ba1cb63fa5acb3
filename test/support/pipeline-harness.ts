/**
 * Real `PipelineDeps` for running the request path without Fastify, built as `service/main/gateway.ts`
 * builds them: the request policy and admission limits of `testConfigDocument(patch)`, a `MemoryStore`
 * on a settable `TestClock` (mid-month, so no budget month depends on the day the suite runs), an
 * `UpstreamClient` against a started `FakeOpenAI` (backoff 1 ms), single flight and the keep-alive
 * interval. Each call starts its own fake upstream; `close()` stops it.
 */
import { parseGatewayConfig, type ClientConfig, type GatewayConfig } from '../../runtime/gateway-config';
import { chatCompletions } from '../../service/endpoints/chat-completions';
import {
  createPipelineDeps,
  runModelCall,
  type CallResult,
  type PipelineDeps,
} from '../../service/pipeline/model-call';
import { MemoryStore } from '../../service/store';
import { noAttempts, UpstreamClient } from '../../service/upstream/client';
import type { PreparedCall } from '../../service/endpoints';
import type { ForwardInput } from '../../service/pipeline/forward';
import { staticKey } from '../../service/upstream/key';
import { MID_MONTH_MS, TestClock } from './clock';
import { FakeOpenAI } from './fake-openai';
import { testConfigDocument, UPSTREAM_KEY } from './gateway-harness';
import { MemoryResponse } from './memory-response';

export interface PipelineHarnessOptions {
  /** Deep-merged over the test config document. */
  readonly config?: Record<string, unknown>;
  /** Interval of keep-alive comments while a stream waits, ms. @default 15000 */
  readonly sseKeepAliveMs?: number;
}

export interface PipelineHarness {
  readonly deps: PipelineDeps;
  readonly config: GatewayConfig;
  readonly store: MemoryStore;
  readonly clock: TestClock;
  readonly fake: FakeOpenAI;
  /** A configured client by id. */
  client(id?: string): ClientConfig;
  /** Runs one chat completion call through `runModelCall`, answered into a fresh `MemoryResponse`. */
  chat(body: unknown, options?: ChatCallOptions): Promise<ChatCall>;
  /** The input of the upstream steps (`forward`, the relays) for a chat body prepared as the pipeline does. */
  forwardInput(options: ForwardInputOptions): ForwardInput;
  close(): Promise<void>;
}

export interface ForwardInputOptions {
  readonly response: MemoryResponse;
  /** Prepared with the chat spec for client `app`. */
  readonly body: unknown;
  readonly headers: Record<string, string>;
  readonly cacheKey?: string;
  /** Use this prepared call instead of preparing `body`. */
  readonly prepared?: PreparedCall;
}

export interface ChatCallOptions {
  readonly clientId?: string;
  readonly cacheControl?: string;
  /** Use this response (e.g. one a test aborts or holds). */
  readonly response?: MemoryResponse;
}

export interface ChatCall {
  readonly result: CallResult;
  readonly response: MemoryResponse;
}

export async function startPipeline(options: PipelineHarnessOptions = {}): Promise<PipelineHarness> {
  const fake = new FakeOpenAI();
  await fake.start();
  const config = parseGatewayConfig(testConfigDocument(options.config));
  const clock = new TestClock(MID_MONTH_MS);
  const store = new MemoryStore({ now: clock.now });
  const upstream = new UpstreamClient({
    baseUrl: fake.url,
    key: staticKey(UPSTREAM_KEY),
    organization: config.upstream.organization,
    project: config.upstream.project,
    timeoutMs: config.upstream.timeoutMs,
    maxRetries: config.upstream.maxRetries,
    maxRetryAfterSeconds: config.upstream.maxRetryAfterSeconds,
    retryBaseDelayMs: 1,
  });
  const deps: PipelineDeps = createPipelineDeps({
    config,
    store,
    upstream,
    sseKeepAliveMs: options.sseKeepAliveMs ?? 15_000,
  });
  const client = (id = 'app'): ClientConfig => {
    const found = config.clients.find((c) => c.id === id);
    if (!found) throw new Error(`no client ${id} in the test config`);
    return found;
  };
  return {
    deps,
    config,
    store,
    clock,
    fake,
    client,
    async chat(body, call = {}) {
      const response = call.response ?? new MemoryResponse();
      const result = await runModelCall(deps, {
        spec: chatCompletions,
        client: client(call.clientId),
        body,
        cacheControl: call.cacheControl,
        response,
        started: performance.now(),
      });
      return { result, response };
    },
    forwardInput({ response, body, headers, cacheKey, prepared: given }) {
      const prepared = given ?? chatCompletions.prepare({ policy: deps.policy, client: client(), body });
      return {
        prepared,
        price: config.models[prepared.model],
        payload: JSON.stringify(prepared.body),
        headers,
        response,
        attempts: noAttempts(),
        started: performance.now(),
        ...(cacheKey === undefined ? {} : { cacheKey }),
      };
    },
    async close() {
      await fake.stop(); // first: it cuts any request still open, which pool.close() would wait for
      await upstream.close().catch(() => undefined);
      await store.close();
    },
  };
}

export { eventually } from './eventually';
