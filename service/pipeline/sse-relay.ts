/**
 * Splits an upstream SSE byte stream into frames and passes each through the endpoint's stream reader
 * (its grammar: what to forward, where usage is, when the stream is complete). Optionally keeps the
 * forwarded text for the cache.
 */
import { StringDecoder } from 'node:string_decoder';
import type { StreamReader } from '../endpoints';
import type { OpenAIErrorBody } from '../errors';
import { MAX_CACHE_ENTRY_CHARS } from './cache';

const FRAME_END = '\n\n';

/** Largest SSE frame accepted from upstream; a bigger one fails the stream rather than the process. */
export const MAX_SSE_FRAME_BYTES = 1 << 20;

/** Upstream sent a frame over `MAX_SSE_FRAME_BYTES`: the stream is treated as broken. */
export class SseFrameTooLargeError extends Error {
  override readonly name = 'SseFrameTooLargeError';
}

/**
 * Frames end at a blank line, with lines ended by LF, CRLF or CR (the SSE grammar); they are relayed
 * with LF. Each byte is scanned once: a frame arriving in many chunks is not rescanned from its start.
 */
export class SseRelay {
  private readonly decoder = new StringDecoder('utf8');
  private pending = '';
  /** Where the search for the next frame end resumes in `pending`. */
  private scanFrom = 0;
  /** A CR ended the last chunk: an LF starting the next one is the second half of that CRLF. */
  private carriageReturn = false;
  private captured: string[] | undefined;
  private capturedChars = 0;

  constructor(
    /** The endpoint's reader of this stream. */
    readonly reader: StreamReader,
    /** Keep the forwarded text so a complete stream can be cached. */
    capture: boolean,
  ) {
    if (capture) this.captured = [];
  }

  /**
   * Feeds upstream bytes; returns the text to send to the caller now ('' when no frame is complete yet).
   * @throws SseFrameTooLargeError when a frame grows past `MAX_SSE_FRAME_BYTES`
   */
  push(chunk: Buffer): string {
    this.pending += this.normalized(this.decoder.write(chunk));
    let out = '';
    let start = 0;
    for (
      let end = this.pending.indexOf(FRAME_END, this.scanFrom);
      end !== -1;
      end = this.pending.indexOf(FRAME_END, start)
    ) {
      const frame = this.reader.frame(this.pending.slice(start, end));
      if (frame !== undefined) out += frame + FRAME_END;
      start = end + FRAME_END.length;
    }
    if (start > 0) this.pending = this.pending.slice(start);
    // A frame end may straddle this chunk and the next: resume one character back.
    this.scanFrom = Math.max(0, this.pending.length - 1);
    const maxFrameBytes = this.reader.maxFrameBytes ?? MAX_SSE_FRAME_BYTES;
    if (this.pending.length > maxFrameBytes) {
      throw new SseFrameTooLargeError(`an upstream SSE frame exceeds ${maxFrameBytes} bytes`);
    }
    if (out.length > 0 && this.captured) this.capture(out);
    return out;
  }

  /** The text forwarded so far, when `capture` was set and it stayed small enough to cache. */
  get forwarded(): string | undefined {
    return this.captured?.join('');
  }

  /** Keeps `out` for the cache, until the stream outgrows a cache entry: then nothing is kept. */
  private capture(out: string): void {
    this.capturedChars += out.length;
    if (this.capturedChars > MAX_CACHE_ENTRY_CHARS) this.captured = undefined;
    else this.captured!.push(out);
  }

  /** Line ends as LF. A CR ends a line at once; an LF right after it (even in the next chunk) is its pair. */
  private normalized(text: string): string {
    if (text.length === 0) return text;
    if (this.carriageReturn && text.charCodeAt(0) === 10) text = text.slice(1);
    this.carriageReturn = text.endsWith('\r');
    return text.includes('\r') ? text.replace(/\r\n?/g, '\n') : text;
  }
}

/** An SSE frame carrying an OpenAI-shaped error: the `openai` SDK raises it as an APIError. */
export function sseErrorFrame(error: { toBody(): OpenAIErrorBody }): string {
  return `data: ${JSON.stringify(error.toBody())}${FRAME_END}`;
}

export const SSE_KEEP_ALIVE = `: keep-alive${FRAME_END}`;
