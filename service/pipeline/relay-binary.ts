/**
 * A call whose answer is bytes (speech audio): the upstream body streamed through to the caller as it
 * arrives, with upstream's content type. The bytes carry no usage, so a call upstream answered is
 * charged its worst case, which is exact for a model priced per input character; an error status is
 * relayed as is and charged nothing. Not cached (audio answers are large and rarely asked twice).
 */
import { NOTHING_CHARGED, type ForwardInput, type Forwarded, type UpstreamDeps } from './forward';
import { meterWorstCase } from './metering';
import { readCapped, MAX_JSON_ANSWER_BYTES } from './relay-json';

export async function relayBinary(deps: UpstreamDeps, input: ForwardInput): Promise<Forwarded> {
  const { response, prepared } = input;
  const up = await deps.upstream.send({
    path: prepared.spec.upstreamPath,
    payload: input.payload,
    ...(input.contentType === undefined ? {} : { contentType: input.contentType }),
    signal: response.signal,
    attempts: input.attempts,
  });
  if (up.status !== 200) {
    const text = await readCapped(up.body, MAX_JSON_ANSWER_BYTES);
    response.send({ status: up.status, headers: input.headers, contentType: 'json', body: text });
    return { charge: NOTHING_CHARGED, upstreamMs: up.headersMs };
  }
  const header = up.headers['content-type'];
  const mediaType = (Array.isArray(header) ? header[0] : header) ?? 'application/octet-stream';
  response.openStream(input.headers, mediaType);
  let firstByteAt: number | undefined;
  let complete = false;
  try {
    for await (const chunk of up.body as AsyncIterable<Buffer>) {
      firstByteAt ??= performance.now();
      await response.write(chunk);
    }
    complete = true;
  } catch {
    // the caller went away (signal) or upstream broke the body: told apart below
  }
  // Bytes cut short cannot carry an error event: the caller's connection is dropped instead.
  if (response.signal.aborted) up.body.destroy();
  else if (complete) response.end();
  else response.drop();
  return {
    charge: { metered: meterWorstCase(input.price, prepared) },
    upstreamMs: up.headersMs,
    streamOutcome: response.signal.aborted ? 'caller_aborted' : complete ? 'complete' : 'upstream_failed',
    ...(firstByteAt === undefined ? {} : { timeToFirstTokenMs: firstByteAt - input.started }),
  };
}
