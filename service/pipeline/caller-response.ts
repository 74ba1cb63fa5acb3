/**
 * The caller's side of one call, as the pipeline steps see it: a whole answer, or a stream opened once
 * and written frame by frame. The HTTP layer implements it over Fastify's reply; unit tests implement
 * it in memory. Its signal is aborted when the caller goes away before the answer is complete.
 */
export type ResponseHeaders = Readonly<Record<string, string>>;

/** A whole answer: status, headers and body, JSON or (replayed from the cache) SSE text. */
export interface WholeAnswer {
  readonly status: number;
  readonly headers: ResponseHeaders;
  readonly contentType: 'json' | 'sse';
  /** Upstream's content type, for an answer that is not JSON (a transcript as text, SRT or VTT). @default JSON */
  readonly mediaType?: string;
  readonly body: string;
}

/** A whole answer whose body is streamed through as it comes (a file's bytes). */
export interface BytesAnswer {
  readonly status: number;
  readonly headers: ResponseHeaders;
  /** The body's own `Content-Type`. */
  readonly contentType: string;
  readonly body: NodeJS.ReadableStream;
}

export interface CallerResponse {
  /** Aborted when the caller goes away before its answer is complete. */
  readonly signal: AbortSignal;
  /** The status line went out: a later error can only go into the stream. */
  readonly started: boolean;
  send(answer: WholeAnswer): void;
  /** Sends `answer`, its body piped to the caller; the body is dropped if the caller leaves. */
  sendBytes(answer: BytesAnswer): void;
  /**
   * Opens a 200 streamed answer with `headers`: SSE, or bytes of `mediaType` (speech audio); later
   * calls do nothing.
   */
  openStream(headers: ResponseHeaders, mediaType?: string): void;
  /** Writes stream text or bytes; the promise, when there is one, resolves once the caller has taken it. */
  write(chunk: string | Uint8Array): Promise<void> | undefined;
  /** Ends the stream, after `text` when given; does nothing once the caller is gone. */
  end(text?: string): void;
  /**
   * Drops a byte stream cut short (the connection closes without its last chunk), so the caller sees
   * it incomplete rather than a shorter answer; does nothing once the caller is gone.
   */
  drop(): void;
}
