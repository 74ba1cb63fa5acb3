/**
 * Splits an upstream SSE byte stream into frames and passes each through the endpoint's stream reader
 * (its grammar: what to forward, where usage is, when the stream is complete). Optionally keeps the
 * forwarded text for the cache.
 */
import { StringDecoder } from 'node:string_decoder';
import type { StreamReader } from '../endpoints';
import type { OpenAIErrorBody } from '../errors';

const FRAME_END = '\n\n';

export class SseRelay {
  private readonly decoder = new StringDecoder('utf8');
  private pending = '';
  private captured: string[] | undefined;

  constructor(
    /** The endpoint's reader of this stream. */
    readonly reader: StreamReader,
    /** Keep the forwarded text so a complete stream can be cached. */
    capture: boolean,
  ) {
    if (capture) this.captured = [];
  }

  /** Feeds upstream bytes; returns the text to send to the caller now ('' when no frame is complete yet). */
  push(chunk: Buffer): string {
    const text = this.pending + this.decoder.write(chunk);
    let start = 0;
    let out = '';
    for (let end = text.indexOf(FRAME_END); end !== -1; end = text.indexOf(FRAME_END, start)) {
      const frame = this.reader.frame(text.slice(start, end));
      if (frame !== undefined) out += frame + FRAME_END;
      start = end + FRAME_END.length;
    }
    this.pending = start === 0 ? text : text.slice(start);
    if (out.length > 0) this.captured?.push(out);
    return out;
  }

  /** The text forwarded so far (when `capture` was set). */
  get forwarded(): string {
    return this.captured?.join('') ?? '';
  }
}

/** An SSE frame carrying an OpenAI-shaped error: the `openai` SDK raises it as an APIError. */
export function sseErrorFrame(error: { toBody(): OpenAIErrorBody }): string {
  return `data: ${JSON.stringify(error.toBody())}${FRAME_END}`;
}

export const SSE_KEEP_ALIVE = `: keep-alive${FRAME_END}`;
