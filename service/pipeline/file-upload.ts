/**
 * `POST /v1/files`: admit against RPM -> the caller's multipart body streamed through the multipart
 * relay to upstream (never buffered whole; past `limits.maxUploadBytes` the upstream request is
 * aborted half-sent and the caller gets 413; a bad field is refused before the body's end goes up) ->
 * the created file recorded as the caller's -> its JSON answer. An upload bills no tokens. Like every
 * call of the pipeline it never throws.
 */
import type { Readable } from 'node:stream';
import { DEFAULT_MAX_UPLOAD_BYTES, type ClientConfig } from '../../runtime/gateway-config';
import { validateFileUpload } from '../endpoints/files';
import { bodyTooLarge, GatewayError, requestTimedOut } from '../errors';
import { noAttempts } from '../upstream/client';
import { mapUpstreamError } from '../upstream/errors';
import { admitRequest } from './admit';
import type { CallerResponse } from './caller-response';
import { NOTHING_METERED } from './metering';
import type { CallResult, PipelineDeps } from './model-call';
import { multipartBoundary, MultipartRelay } from './multipart-relay';
import { recordOwnedAnswer } from './owned-answers';

export interface FileUploadInput {
  readonly client: ClientConfig;
  /** The caller's raw request body. */
  readonly body: Readable;
  readonly contentType: string | undefined;
  /** The caller's declared `Content-Length`, if any. */
  readonly contentLength: number | undefined;
  readonly response: CallerResponse;
}

export async function runFileUpload(deps: PipelineDeps, input: FileUploadInput): Promise<CallResult> {
  const attempts = noAttempts();
  const trace = { metered: NOTHING_METERED, budgetExceeded: false, attempts };
  let headers: Record<string, string> = {};
  let relay: MultipartRelay | undefined;
  try {
    headers = await admitRequest({ limits: deps.limits, store: deps.store, client: input.client });
    relay = startRelay(deps, input);
    const up = await deps.upstream.send({
      method: 'POST',
      path: '/files',
      streamed: {
        body: relay,
        contentType: input.contentType!,
        ...(input.contentLength === undefined ? {} : { contentLength: input.contentLength }),
        started: () => relay!.started,
      },
      signal: input.response.signal,
      attempts,
    });
    const text = await recordOwnedAnswer(deps, { clientId: input.client.id, kind: 'file', up });
    input.response.send({ status: up.status, headers, contentType: 'json', body: text });
    return { trace: { ...trace, upstreamMs: up.headersMs } };
  } catch (error) {
    return { trace, error: mapUpstreamError(relay?.failure ?? error), headers };
  } finally {
    stopReading(input.body, relay);
  }
}

/** The relay, fed from the caller's body. @throws GatewayError 413 or 400 before anything is sent */
function startRelay(deps: PipelineDeps, input: FileUploadInput): MultipartRelay {
  const limits = deps.config.limits;
  const maxBytes = limits.maxUploadBytes ?? DEFAULT_MAX_UPLOAD_BYTES;
  const boundary = multipartBoundary(input.contentType);
  if (boundary === undefined) {
    throw new GatewayError(415, {
      message: "Send the upload as 'Content-Type: multipart/form-data' with a boundary.",
      type: 'invalid_request_error',
    });
  }
  if (input.contentLength !== undefined && input.contentLength > maxBytes) throw bodyTooLarge(maxBytes);
  const relay = new MultipartRelay({
    boundary,
    maxBytes,
    validate: (parts) => validateFileUpload(parts, limits),
  });
  input.body.once('error', (err) => relay.destroy(err));
  armIdleTimeout(input.body, relay, deps.config.upstream.timeoutMs);
  input.body.pipe(relay);
  return relay;
}

/** A caller whose upload stalls for `ms` holds an upstream connection: the relay fails with 408. */
function armIdleTimeout(body: Readable, relay: MultipartRelay, ms: number): void {
  let timer = setTimeout(stall, ms);
  function stall() {
    relay.abort(requestTimedOut());
  }
  body.on('data', () => timer.refresh());
  const clear = () => clearTimeout(timer);
  relay.once('close', clear);
  body.once('end', clear);
  timer = timer.unref();
}

/**
 * Whatever the caller still sends once the call is over is read and dropped, so its answer (a 413
 * included) reaches it over a connection that stays usable.
 */
function stopReading(body: Readable, relay: MultipartRelay | undefined): void {
  if (relay !== undefined) {
    body.unpipe(relay);
    relay.destroy();
  }
  if (!body.readableEnded) body.resume();
}
