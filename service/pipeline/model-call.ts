/**
 * One model call, top to bottom: prepare (the endpoint spec) -> admit (limits, budgets and the cache
 * read in one store round trip) -> replay a cache hit, or forward (moderation, upstream, relay) ->
 * settle the reservation once with what the call used. It never throws: the HTTP layer gets the
 * call's trace for its request record, and the error to answer when nothing was sent yet.
 */
import type { ClientConfig, ModelPrice } from '../../runtime/gateway-config';
import { createRequestPolicy, type EndpointSpec, type PreparedCall, type RequestPolicy } from '../endpoints';
import type { GatewayStore } from '../store/types';
import type { CacheStatus } from '../telemetry/metrics';
import { noAttempts, type AttemptCounts } from '../upstream/client';
import { admit, AdmissionLimits, type Admitted } from './admit';
import { cachedAnswer, planCache, SingleFlight, type CachePlan } from './cache';
import { ConcurrencyLimits, type CallSlot } from './concurrency';
import type { CallerResponse, ResponseHeaders } from './caller-response';
import { forward, type Forwarded, type ForwardInput, type StreamOutcome, type UpstreamDeps } from './forward';
import { addMetered, meterWorstCase, NOTHING_METERED, priceOf, type Metered } from './metering';
import { BackgroundSettler } from './background';
import { authorizeNamedObjects, callObjectsRecorder, type AuthorizedCall } from './objects';

/** Everything the pipeline runs with, built once per gateway. */
export interface PipelineDeps extends UpstreamDeps {
  readonly policy: RequestPolicy;
  /** Holds and settles the reservations of background responses. */
  readonly background: BackgroundSettler;
  /** Calls in flight per client on this replica. */
  readonly concurrency: ConcurrencyLimits;
  readonly limits: AdmissionLimits;
  readonly store: GatewayStore;
}

/** What the composition root chooses; the per-config parts are built here. */
export type PipelineParts = Pick<PipelineDeps, 'config' | 'store' | 'upstream' | 'sseKeepAliveMs'>;

/**
 * The parts that outlive a config swap: the store (limits, budgets and the cache live there, keyed by
 * client id), the upstream client, the flights, the slots in flight and the background settler.
 */
export type PipelineShared = Omit<PipelineDeps, 'config' | 'policy' | 'limits'>;

/** The shared parts over a store and an upstream client, built once per gateway. */
export function createPipelineShared(parts: Omit<PipelineParts, 'config'>): PipelineShared {
  return {
    ...parts,
    flights: new SingleFlight(),
    concurrency: new ConcurrencyLimits(),
    background: new BackgroundSettler({ store: parts.store, upstream: parts.upstream }),
  };
}

/** The pipeline for one config over the shared parts: its policy and limits are built here, once. */
export function pipelineForConfig(shared: PipelineShared, config: PipelineDeps['config']): PipelineDeps {
  return { ...shared, config, policy: createRequestPolicy(config), limits: new AdmissionLimits(config) };
}

/** The pipeline's dependencies over a store and an upstream client: policy, limits, flights, slots. */
export function createPipelineDeps(parts: PipelineParts): PipelineDeps {
  const { config, ...shared } = parts;
  return pipelineForConfig(createPipelineShared(shared), config);
}

/** One call as the HTTP layer hands it over. */
export interface ModelCallInput {
  readonly spec: EndpointSpec;
  readonly client: ClientConfig;
  /** The parsed JSON body. */
  readonly body: unknown;
  /** The caller's `Cache-Control` header. */
  readonly cacheControl: string | undefined;
  readonly response: CallerResponse;
  /** When the request arrived (performance.now). */
  readonly started: number;
}

/** What the request record learns about the call. */
export interface CallTrace {
  readonly model?: string;
  readonly cache?: CacheStatus;
  readonly metered: Metered;
  readonly budgetExceeded: boolean;
  readonly attempts: AttemptCounts;
  readonly upstreamMs?: number;
  readonly timeToFirstTokenMs?: number;
  readonly streamOutcome?: StreamOutcome;
}

export interface CallResult {
  readonly trace: CallTrace;
  /** The caller's error, when the call failed before any answer went out. */
  readonly error?: unknown;
  /** Headers the error answer carries (rate limits, cache status). */
  readonly headers?: ResponseHeaders;
}

export async function runModelCall(deps: PipelineDeps, input: ModelCallInput): Promise<CallResult> {
  const attempts = noAttempts();
  const planned = await plan(deps, input);
  if ('error' in planned) {
    return { trace: { metered: NOTHING_METERED, budgetExceeded: false, attempts }, error: planned.error };
  }
  const { authorized, cachePlan } = planned;
  const { prepared } = authorized;
  const base = { model: prepared.model, attempts };
  let admitted: Admitted;
  try {
    admitted = await admit({
      limits: deps.limits,
      store: deps.store,
      client: input.client,
      prepared,
      cacheKey: cachePlan.key,
    });
  } catch (error) {
    const budgetExceeded = (error as { type?: string }).type === 'insufficient_quota';
    return { trace: { ...base, metered: NOTHING_METERED, budgetExceeded }, error };
  }
  if (admitted.kind === 'hit') {
    admitted.headers['x-cache-status'] = 'HIT';
    replay(input.response, admitted.cached, admitted.headers);
    return { trace: { ...base, cache: 'HIT', metered: NOTHING_METERED, budgetExceeded: false } };
  }
  const cache: CacheStatus = cachePlan.key !== undefined && !admitted.degraded ? 'MISS' : 'BYPASS';
  // The admission's headers are this call's own: the cache status joins them in place.
  const headers = admitted.headers;
  headers['x-cache-status'] = cache;
  let slot: CallSlot;
  try {
    slot = deps.concurrency.acquire(input.client);
  } catch (error) {
    // Refused before going upstream: the reservation is given back whole.
    admitted.reservation.settle({ metered: NOTHING_METERED });
    return { trace: { ...base, metered: NOTHING_METERED, budgetExceeded: false }, error, headers };
  }
  const price = priceOf(deps.config.models, prepared);
  const objects = callObjectsRecorder(deps.store.owners, input.client.id, authorized);
  const forwarded = await forward(deps, {
    prepared,
    price,
    payload: cachePlan.payload,
    ...(cachePlan.contentType === undefined ? {} : { contentType: cachePlan.contentType }),
    ...(cache === 'MISS' ? { cacheKey: cachePlan.key } : {}),
    headers,
    response: input.response,
    attempts,
    started: input.started,
    ...(objects.onCreated ? { onCreated: objects.onCreated } : {}),
    ...backgroundHold(deps, { authorized, price, clientId: input.client.id, admitted, attempts }),
  }).finally(() => slot.release());
  const metered = settleForwarded({ forwarded, admitted, price, prepared, attempts, objects });
  return { trace: traceOf(base, forwarded, cache, metered), error: forwarded.error, headers };
}

/**
 * Settles what a forwarded call billed, attempts upstream may have billed unseen (timed out, cut off,
 * abandoned) at their worst case each; a background response's reservation is the settler's instead
 * (settled once, at its final status), so nothing is metered here.
 */
function settleForwarded(call: {
  readonly forwarded: Forwarded;
  readonly admitted: Extract<Admitted, { kind: 'reserved' }>;
  readonly price: ModelPrice;
  readonly prepared: PreparedCall;
  readonly attempts: AttemptCounts;
  readonly objects: ReturnType<typeof callObjectsRecorder>;
}): Metered {
  const { forwarded, price, attempts } = call;
  if (forwarded.charge.held) return NOTHING_METERED;
  const metered = call.admitted.reservation.settle({
    ...forwarded.charge,
    metered: addMetered(forwarded.charge.metered, meterWorstCase(price, call.prepared), attempts.unanswered),
  });
  void call.objects.settled(metered, 1 + attempts.unanswered);
  return metered;
}

/** For a background call: hands its reservation to the settler once upstream names the response. */
function backgroundHold(
  deps: PipelineDeps,
  call: {
    readonly authorized: AuthorizedCall;
    readonly price: ModelPrice;
    readonly clientId: string;
    readonly admitted: Extract<Admitted, { kind: 'reserved' }>;
    readonly attempts: AttemptCounts;
  },
): Pick<ForwardInput, 'onBackground'> {
  const { prepared, turn } = call.authorized;
  if (!prepared.background) return {};
  return {
    onBackground: (id) =>
      deps.background.hold({
        id,
        clientId: call.clientId,
        ticket: call.admitted.reservation.ticket,
        price: call.price,
        worstCase: meterWorstCase(call.price, prepared),
        // Read when upstream answers: the attempts before it may each have started a response.
        unanswered: call.attempts.unanswered,
        ...(turn ? { turn } : {}),
      }),
  };
}

/** The endpoint spec's prepared call (the objects it names checked) and how it uses the cache, or the caller's error. */
async function plan(
  deps: PipelineDeps,
  input: ModelCallInput,
): Promise<
  { readonly authorized: AuthorizedCall; readonly cachePlan: CachePlan } | { readonly error: unknown }
> {
  try {
    const spec = input.spec.prepare({ policy: deps.policy, client: input.client, body: input.body });
    const authorized = await authorizeNamedObjects(deps.store.owners, input.client.id, spec);
    const cachePlan = planCache({
      config: deps.config,
      clientId: input.client.id,
      prepared: authorized.prepared,
      cacheControl: input.cacheControl,
    });
    return { authorized, cachePlan };
  } catch (error) {
    return { error };
  }
}

function replay(response: CallerResponse, value: string, headers: ResponseHeaders): void {
  const { stream, payload } = cachedAnswer(value);
  response.send({ status: 200, headers, contentType: stream ? 'sse' : 'json', body: payload });
}

function traceOf(
  base: Pick<CallTrace, 'model' | 'attempts'>,
  forwarded: Forwarded,
  cache: CacheStatus,
  metered: Metered,
): CallTrace {
  return {
    ...base,
    cache: forwarded.sharedFlight ? 'HIT' : cache,
    metered,
    budgetExceeded: false,
    upstreamMs: forwarded.upstreamMs,
    timeToFirstTokenMs: forwarded.timeToFirstTokenMs,
    streamOutcome: forwarded.streamOutcome,
  };
}
