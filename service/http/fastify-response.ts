/** The pipeline's `CallerResponse` over a Fastify reply: whole answers through Fastify, streams raw. */
import { once } from 'node:events';
import type { FastifyReply } from 'fastify';
import type { BytesAnswer, CallerResponse, ResponseHeaders, WholeAnswer } from '../pipeline/caller-response';

const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  'x-accel-buffering': 'no',
};

const CONTENT_TYPES = { json: 'application/json', sse: SSE_HEADERS['content-type'] } as const;

export interface FastifyResponseOptions {
  /** Aborted when the caller goes away, or here when it stops reading a stream. */
  readonly abort: AbortController;
  /** A caller that takes no stream bytes for this long is dropped (which aborts upstream), ms. */
  readonly writeStallTimeoutMs: number;
}

export class FastifyResponse implements CallerResponse {
  private opened = false;
  readonly signal: AbortSignal;
  private readonly abort: AbortController;
  private readonly writeStallTimeoutMs: number;

  constructor(
    private readonly reply: FastifyReply,
    options: FastifyResponseOptions,
  ) {
    this.abort = options.abort;
    this.signal = options.abort.signal;
    this.writeStallTimeoutMs = options.writeStallTimeoutMs;
  }

  get started(): boolean {
    return this.opened || this.reply.raw.headersSent;
  }

  send(answer: WholeAnswer): void {
    const reply = this.reply.code(answer.status).headers(answer.headers);
    if (answer.contentType === 'sse') reply.headers(SSE_HEADERS);
    else reply.header('content-type', answer.mediaType ?? CONTENT_TYPES.json);
    reply.send(answer.body);
  }

  sendBytes(answer: BytesAnswer): void {
    // Fastify pipes a stream body and destroys it when the caller goes away.
    this.reply.code(answer.status).headers(answer.headers).header('content-type', answer.contentType);
    this.reply.send(answer.body);
  }

  openStream(headers: ResponseHeaders, mediaType?: string): void {
    if (this.opened) return;
    this.opened = true;
    this.reply.hijack();
    this.reply.raw.writeHead(200, {
      ...(mediaType === undefined ? SSE_HEADERS : { 'content-type': mediaType, 'x-accel-buffering': 'no' }),
      ...headers,
      'x-request-id': String(this.reply.request.id),
    });
  }

  write(chunk: string | Uint8Array): Promise<void> | undefined {
    const raw = this.reply.raw;
    if (raw.write(chunk)) return undefined;
    const stalled = AbortSignal.timeout(this.writeStallTimeoutMs);
    return once(raw, 'drain', { signal: AbortSignal.any([this.signal, stalled]) }).then(
      () => undefined,
      (err: unknown) => {
        // A caller that stopped reading holds an upstream connection: it is treated as gone.
        if (stalled.aborted) {
          this.abort.abort(err);
          raw.destroy();
        }
        throw err;
      },
    );
  }

  drop(): void {
    if (!this.reply.raw.destroyed) this.reply.raw.destroy();
  }

  end(text?: string): void {
    const raw = this.reply.raw;
    if (raw.destroyed || raw.writableEnded) return;
    if (text === undefined) raw.end();
    else raw.end(text);
  }
}
