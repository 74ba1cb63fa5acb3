/**
 * An in-memory `CallerResponse` for running pipeline steps without Fastify. It records what the caller
 * received: a whole answer (`sent`: status, headers, content type, body) or a stream (`streamHeaders`,
 * the `writes` in order, `ended` and the `endText`). `abort()` plays a caller who leaves. With
 * `holdWrites()` every write returns a pending promise (back-pressure) until `drain()`; a caller who
 * leaves rejects the pending writes, as the Fastify response's wait for `drain` does. Misuse of the
 * interface (a second answer, writes before the stream opened or after it ended) is kept in `problems`
 * rather than thrown, so a test sees it even where the pipeline would swallow an exception.
 */
import type {
  BytesAnswer,
  CallerResponse,
  ResponseHeaders,
  WholeAnswer,
} from '../../service/pipeline/caller-response';

interface HeldWrite {
  readonly resolve: () => void;
  readonly reject: (reason: unknown) => void;
}

export class MemoryResponse implements CallerResponse {
  private readonly controller = new AbortController();
  /** The whole answer, when one was sent. */
  sent: WholeAnswer | undefined;
  /** The bytes answer, when one was sent. */
  bytesAnswer: BytesAnswer | undefined;
  /** The content type of a byte stream (speech audio), when it was opened as one. */
  streamMediaType: string | undefined;
  /** The headers the stream was opened with, when it was. */
  streamHeaders: ResponseHeaders | undefined;
  /** Stream text in the order it was written (keep-alive comments included; bytes as latin1). */
  readonly writes: string[] = [];
  ended = false;
  /** The stream was dropped, cut short (`drop()`). */
  dropped = false;
  /** The text `end` was given, if any. */
  endText: string | undefined;
  /** Calls that broke the interface's contract. */
  readonly problems: string[] = [];
  private holding = false;
  private held: HeldWrite[] = [];

  constructor() {
    this.controller.signal.addEventListener('abort', () => {
      const held = this.held;
      this.held = [];
      for (const w of held) w.reject(this.controller.signal.reason);
    });
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get started(): boolean {
    return this.sent !== undefined || this.streamHeaders !== undefined;
  }

  /** Everything the stream carried: the writes, then the end text. */
  get streamText(): string {
    return this.writes.join('') + (this.endText ?? '');
  }

  /** Writes still waiting for the caller (while `holdWrites()` is in effect). */
  get pendingWrites(): number {
    return this.held.length;
  }

  /** The caller goes away. */
  abort(): void {
    this.controller.abort();
  }

  /** From now on every write waits for `drain()` (or is rejected when the caller leaves). */
  holdWrites(): void {
    this.holding = true;
  }

  /** Lets the held writes through and stops holding new ones. */
  drain(): void {
    this.holding = false;
    const held = this.held;
    this.held = [];
    for (const w of held) w.resolve();
  }

  send(answer: WholeAnswer): void {
    if (this.started) this.problems.push(`send(${answer.status}) after the answer had started`);
    this.sent ??= answer;
  }

  /** A bytes answer is kept as a whole answer; its body is read into `bytes`. */
  sendBytes(answer: BytesAnswer): void {
    this.send({ status: answer.status, headers: answer.headers, contentType: 'json', body: '' });
    this.bytesAnswer = answer;
  }

  openStream(headers: ResponseHeaders, mediaType?: string): void {
    if (this.sent !== undefined) this.problems.push('openStream after a whole answer was sent');
    this.streamHeaders ??= headers;
    this.streamMediaType ??= mediaType;
  }

  write(chunk: string | Uint8Array): Promise<void> | undefined {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('latin1');
    if (this.streamHeaders === undefined) this.problems.push('write before the stream was opened');
    if (this.ended) this.problems.push('write after end');
    if (this.signal.aborted) return Promise.reject(this.signal.reason);
    this.writes.push(text);
    if (!this.holding) return undefined;
    return new Promise<void>((resolve, reject) => this.held.push({ resolve, reject }));
  }

  drop(): void {
    if (this.signal.aborted) return;
    if (this.streamHeaders === undefined) this.problems.push('drop before the stream was opened');
    this.dropped = true;
  }

  end(text?: string): void {
    if (this.signal.aborted) return; // nobody is there to receive it
    if (this.ended) this.problems.push('end called twice');
    if (this.streamHeaders === undefined) this.problems.push('end before the stream was opened');
    this.ended = true;
    if (text !== undefined) this.endText = (this.endText ?? '') + text;
  }
}
