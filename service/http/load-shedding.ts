/**
 * Load shedding for the `/v1` routes (`@fastify/under-pressure`): while the event loop's mean delay
 * over the last sample (or its utilization, when that check is on) is past its threshold, a request
 * is answered 503 `gateway_overloaded` with `Retry-After` as it arrives, before its body is read and
 * before any store or upstream work. The health routes are outside this scope and keep answering: an
 * overloaded task is still a healthy one, and taking it out of the load balancer would move its load
 * onto the others.
 */
import underPressure from '@fastify/under-pressure';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { GatewayError, overloaded } from '../errors';

export interface LoadSheddingOptions {
  /** Mean event-loop delay over a sample above which requests are shed, ms; 0: never. */
  readonly maxEventLoopDelayMs: number;
  /** Event-loop utilization over a sample (0 to 1) above which requests are shed; 0: never. */
  readonly maxEventLoopUtilization: number;
  /** How often the loop is sampled, ms. */
  readonly sampleIntervalMs: number;
  /** `Retry-After` of a shed request, seconds. */
  readonly retryAfterSeconds: number;
  /** Told of every shed request (the request record counts it). */
  readonly onShed: (request: FastifyRequest) => void;
}

/** Registers the overload check on `scope`, whose `onRequest` hooks registered before it run first. */
export async function registerLoadShedding(
  scope: FastifyInstance,
  options: LoadSheddingOptions,
): Promise<void> {
  const { status, message, type, code, headers } = overloaded(options.retryAfterSeconds);
  /** The plugin builds one of these at registration and answers every shed request with it. */
  class ShedError extends GatewayError {
    constructor() {
      super(status, { message, type, code, headers });
    }
  }
  await scope.register(underPressure, {
    maxEventLoopDelay: options.maxEventLoopDelayMs,
    maxEventLoopUtilization: options.maxEventLoopUtilization,
    // The utilization of the last sample, not the average since the process started.
    eventLoopUtilizationMode: 'interval',
    sampleInterval: options.sampleIntervalMs,
    retryAfter: options.retryAfterSeconds,
    // The app's error handler answers it as any GatewayError: status, body and Retry-After.
    customError: ShedError,
  });
  scope.addHook('onError', (request, _reply, error, done) => {
    if (error instanceof ShedError) options.onShed(request);
    done();
  });
}
