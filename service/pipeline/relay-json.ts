/**
 * A JSON call: one upstream request (shared with identical cacheable calls in flight), its answer
 * relayed as is, then charged from the usage in the body. Settlement and the cache write happen after
 * the answer is on its way: the caller does not wait for them.
 */
import { upstreamFailed } from '../errors';
import type { UpstreamClient } from '../upstream/client';
import { cacheEntry, type SharedAnswer } from './cache';
import type { ForwardInput, Forwarded, UpstreamDeps } from './forward';
import { meter, meterWorstCase, NOTHING_METERED } from './metering';

interface UpstreamAnswer extends SharedAnswer {
  readonly headersMs: number;
  /** Upstream's content type when it is not JSON (a transcript as text, SRT or VTT). */
  readonly mediaType?: string;
}

/** Upstream's content type, when it is one the caller must see instead of JSON. */
function nonJsonType(header: string | string[] | undefined): string | undefined {
  const type = Array.isArray(header) ? header[0] : header;
  return type === undefined || /^application\/json/i.test(type) ? undefined : type;
}

/**
 * Largest JSON answer the gateway buffers (it reads usage from the whole body, and may cache it).
 * Embeddings of a full batch of inputs stay well below it.
 */
export const MAX_JSON_ANSWER_BYTES = 64 << 20;

/** The body as text, failing (and dropping the rest) once it passes `maxBytes`. */
export async function readCapped(
  body: AsyncIterable<Buffer> & { destroy(): void },
  maxBytes: number,
): Promise<string> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of body) {
    bytes += chunk.length;
    if (bytes > maxBytes) {
      body.destroy();
      throw upstreamFailed(`The upstream model API answered more than ${maxBytes} bytes.`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, bytes).toString('utf8');
}

async function callUpstream(upstream: UpstreamClient, input: ForwardInput): Promise<UpstreamAnswer> {
  const up = await upstream.send({
    path: input.prepared.spec.upstreamPath,
    payload: input.payload,
    ...(input.contentType === undefined ? {} : { contentType: input.contentType }),
    signal: input.response.signal,
    attempts: input.attempts,
  });
  try {
    const mediaType = nonJsonType(up.headers['content-type']);
    return {
      status: up.status,
      text: await readCapped(up.body, MAX_JSON_ANSWER_BYTES),
      headersMs: up.headersMs,
      ...(mediaType === undefined ? {} : { mediaType }),
    };
  } catch (err) {
    // The answer was on its way: upstream billed it, and the gateway never saw its usage.
    input.attempts.unanswered++;
    throw err;
  }
}

export async function relayJson(deps: UpstreamDeps, input: ForwardInput): Promise<Forwarded> {
  const { cacheKey, response, headers, prepared } = input;
  const flight = cacheKey === undefined ? undefined : deps.flights.joined(cacheKey);
  const shared = flight && (await flight);
  if (shared) {
    // Same answer as a cache hit, one upstream call later: this request used no tokens of its own.
    response.send({
      status: 200,
      headers: { ...headers, 'x-cache-status': 'HIT' },
      contentType: 'json',
      body: shared.text,
    });
    return { charge: { metered: NOTHING_METERED }, sharedFlight: true };
  }
  const call = callUpstream(deps.upstream, input);
  const answer = (await (cacheKey === undefined
    ? call
    : deps.flights.lead(cacheKey, call))) as UpstreamAnswer;
  const usage = answer.status === 200 ? prepared.spec.usageOfJson(answer.text, prepared) : undefined;
  const createdId = answer.status === 200 ? prepared.spec.createdIdOfJson?.(answer.text) : undefined;
  // The owner is on record before the caller can name the object in its next call.
  if (createdId !== undefined) await input.onCreated?.(createdId, usage);
  // A background response not done yet: its reservation waits for the final status.
  const held = createdId !== undefined && !usage && (await input.onBackground?.(createdId)) === true;
  response.send({
    status: answer.status,
    headers,
    contentType: 'json',
    ...(answer.mediaType === undefined ? {} : { mediaType: answer.mediaType }),
    body: answer.text,
  });
  if (held) return { charge: { metered: NOTHING_METERED, held }, upstreamMs: answer.headersMs };
  if (answer.status !== 200) return { charge: { metered: NOTHING_METERED }, upstreamMs: answer.headersMs };
  // An answer without readable usage is charged its worst case, and not cached (a hit would be free).
  if (!usage)
    return { charge: { metered: meterWorstCase(input.price, prepared) }, upstreamMs: answer.headersMs };
  const entry =
    cacheKey === undefined
      ? undefined
      : cacheEntry(cacheKey, 'json', answer.text, deps.config.cache.ttlSeconds);
  return {
    charge: {
      metered: meter(input.price, usage),
      ...(entry ? { cacheEntry: entry } : {}),
    },
    upstreamMs: answer.headersMs,
  };
}
