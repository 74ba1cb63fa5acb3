/**
 * A streamed call: keep-alive comments while upstream thinks (they open the stream, so proxies and the
 * ALB see bytes), then every frame relayed as it arrives, read by the endpoint's stream grammar. A stream
 * is charged from the usage it reported, else from its prompt estimate and the frames sent. Only a
 * complete stream without an error event is cached. An error after the stream opened is reported in the
 * stream, as OpenAI does.
 */
import { GatewayError, upstreamFailed } from '../errors';
import type { UpstreamResponse } from '../upstream/client';
import { upstreamStatusError } from '../upstream/errors';
import { cacheEntry } from './cache';
import type { CallerResponse } from './caller-response';
import {
  NOTHING_CHARGED,
  type ForwardInput,
  type Forwarded,
  type StreamOutcome,
  type UpstreamDeps,
} from './forward';
import { meter, meterWorstCase, NOTHING_METERED } from './metering';
import { SSE_KEEP_ALIVE, SseRelay, sseErrorFrame } from './sse-relay';

function endWithError(response: CallerResponse, err: unknown): void {
  const e = err instanceof GatewayError ? err : upstreamFailed('The upstream model API failed.');
  response.end(sseErrorFrame(e));
}

/** The upstream response, with keep-alive comments to the caller while it is awaited. */
async function awaitUpstream(deps: UpstreamDeps, input: ForwardInput): Promise<UpstreamResponse> {
  const { response } = input;
  const keepAlive = setInterval(() => {
    if (response.signal.aborted) return;
    response.openStream(input.headers);
    // A keep-alive does not wait for the caller to drain; one the caller left behind is dropped.
    response.write(SSE_KEEP_ALIVE)?.catch(() => undefined);
  }, deps.sseKeepAliveMs);
  try {
    return await deps.upstream.send({
      path: input.prepared.spec.upstreamPath,
      payload: input.payload,
      ...(input.contentType === undefined ? {} : { contentType: input.contentType }),
      signal: response.signal,
      attempts: input.attempts,
    });
  } finally {
    clearInterval(keepAlive);
  }
}

export async function relayStream(deps: UpstreamDeps, input: ForwardInput): Promise<Forwarded> {
  const { response } = input;
  let up: UpstreamResponse;
  try {
    up = await awaitUpstream(deps, input);
  } catch (err) {
    if (!response.started) throw err;
    const aborted = response.signal.aborted;
    if (!aborted) endWithError(response, err);
    return { charge: NOTHING_CHARGED, streamOutcome: aborted ? 'caller_aborted' : 'upstream_failed' };
  }
  if (up.status !== 200) {
    const text = await up.body.text();
    if (!response.started)
      response.send({ status: up.status, headers: input.headers, contentType: 'json', body: text });
    else endWithError(response, upstreamStatusError(up.status, text));
    return { charge: NOTHING_CHARGED, upstreamMs: up.headersMs };
  }
  return { ...(await pipeFrames(deps, input, up)), upstreamMs: up.headersMs };
}

async function pipeFrames(deps: UpstreamDeps, input: ForwardInput, up: UpstreamResponse): Promise<Forwarded> {
  const { response, prepared } = input;
  response.openStream(input.headers);
  const reader = prepared.spec.streamReader!(prepared);
  const relay = new SseRelay(reader, input.cacheKey !== undefined);
  let firstFrameAt: number | undefined;
  let recorded: string | undefined;
  try {
    for await (const chunk of up.body as AsyncIterable<Buffer>) {
      const out = relay.push(chunk);
      if (out.length === 0) continue;
      if (recorded === undefined && reader.createdId !== undefined && input.onCreated) {
        // The owner is on record before the frame that names the object reaches the caller.
        recorded = reader.createdId;
        await input.onCreated(recorded, undefined);
      }
      firstFrameAt ??= performance.now();
      await response.write(out);
    }
  } catch {
    // the caller went away (signal) or upstream broke the stream: told apart below
  }
  let streamOutcome: StreamOutcome = 'complete';
  if (response.signal.aborted) {
    streamOutcome = 'caller_aborted';
    up.body.destroy();
  } else if (!reader.done) {
    streamOutcome = 'upstream_failed';
    endWithError(response, upstreamFailed('The upstream model API ended the stream before it was complete.'));
  } else response.end();
  // A background response goes on upstream when its stream ends early: it waits for its final status.
  if (recorded !== undefined && !reader.usage && (await input.onBackground?.(recorded)) === true)
    return { charge: { metered: NOTHING_METERED, held: true }, streamOutcome };
  // A stream without readable usage (cut off, abandoned, or none sent) is charged its worst case and
  // not cached (a replay would be free).
  const metered = reader.usage ? meter(input.price, reader.usage) : meterWorstCase(input.price, prepared);
  // The context a later call continuing this object carries, now that its usage is known.
  if (recorded !== undefined && reader.usage) void input.onCreated?.(recorded, reader.usage);
  const forwardedText = relay.forwarded;
  const cacheable =
    streamOutcome === 'complete' &&
    input.cacheKey !== undefined &&
    forwardedText !== undefined &&
    !reader.errored &&
    reader.usage !== undefined;
  return {
    charge: {
      metered,
      ...(cacheable
        ? { cacheEntry: cacheEntry(input.cacheKey!, 'stream', forwardedText!, deps.config.cache.ttlSeconds) }
        : {}),
    },
    streamOutcome,
    ...(firstFrameAt === undefined ? {} : { timeToFirstTokenMs: firstFrameAt - input.started }),
  };
}
