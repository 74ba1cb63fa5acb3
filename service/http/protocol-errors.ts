/**
 * Errors below the route level, in OpenAI's shape like every other answer: a malformed request line
 * or headers (400), headers too large (431) and a request timeout (408) that Node's HTTP parser
 * raises before Fastify sees a request, and JSON nested deeper than a request ever needs (400, refused
 * before parsing, so a 20 kB bracket bomb cannot exhaust the stack of any later step).
 */
import type { Socket } from 'node:net';
import { STATUS_CODES } from 'node:http';
import { headersTooLarge, requestTimedOut, unparsableRequest, type GatewayError } from '../errors';

export { MAX_JSON_DEPTH } from '../errors';

/** The nesting depth of JSON `text`, counted outside strings; stops once past `limit`. */
export function jsonDepthExceeds(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \ */) i++;
      else if (c === 34 /* " */) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 /* { */ || c === 91 /* [ */) {
      if (++depth > limit) return true;
    } else if (c === 125 /* } */ || c === 93 /* ] */) depth--;
  }
  return false;
}

function clientError(code: string | undefined): GatewayError {
  if (code === 'HPE_HEADER_OVERFLOW') return headersTooLarge();
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return requestTimedOut();
  return unparsableRequest();
}

/** Answers `e` straight on the socket, below Fastify, and closes the connection. */
function answerOnSocket(socket: Socket, e: GatewayError, err?: Error): void {
  const body = JSON.stringify(e.toBody());
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${e.status} ${STATUS_CODES[e.status]}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `Content-Type: application/json\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(err);
}

/** Fastify's `clientErrorHandler`: the same cases as its default, answered in OpenAI's shape. */
export function answerClientError(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  answerOnSocket(socket, clientError(err.code), err);
}

/**
 * Bounds the time a request may take to arrive, body included: Node's own `requestTimeout` does not
 * fire while a handler waits for a body trickled a byte at a time. Returns the function that disarms it
 * once the body is in.
 */
export function armRequestDeadline(
  request: { readonly raw: { readonly complete: boolean; readonly socket: Socket } },
  ms: number,
): () => void {
  const timer = setTimeout(() => {
    if (!request.raw.complete) answerOnSocket(request.raw.socket, clientError('ERR_HTTP_REQUEST_TIMEOUT'));
  }, ms);
  timer.unref();
  return () => clearTimeout(timer);
}
