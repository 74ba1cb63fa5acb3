/**
 * Relays an upstream SSE stream to the caller frame by frame. Only frames that carry a `usage` object
 * are parsed (a substring check finds them); the usage-only chunk the gateway asked for is dropped when
 * the caller did not ask for it, and so is the `"usage":null` member upstream adds to every chunk then.
 * Optionally keeps the forwarded text for the cache.
 */
import { StringDecoder } from 'node:string_decoder';
import type { TokenUsage } from '../runtime/pricing';

const FRAME_END = '\n\n';
const DONE_FRAME = 'data: [DONE]';
const USAGE_OBJECT = '"usage":{';
const USAGE_NULL = ',"usage":null';

export interface SseRelayOptions {
  /** The caller asked for `stream_options.include_usage`: forward the usage chunk as is. */
  readonly callerWantsUsage: boolean;
  /** Keep the forwarded text so a complete stream can be cached. */
  readonly capture: boolean;
}

export class SseRelay {
  /** The usage upstream reported, once its chunk has arrived. */
  usage: TokenUsage | undefined;
  /** `data: [DONE]` arrived: the stream is complete. */
  done = false;
  /** Upstream sent an error event inside the stream. */
  errored = false;
  /** Data frames forwarded (a rough completion-token count when no usage arrives). */
  frames = 0;

  private readonly decoder = new StringDecoder('utf8');
  private pending = '';
  private captured: string[] | undefined;

  constructor(private readonly options: SseRelayOptions) {
    if (options.capture) this.captured = [];
  }

  /** Feeds upstream bytes; returns the text to send to the caller now ('' when no frame is complete yet). */
  push(chunk: Buffer): string {
    const text = this.pending + this.decoder.write(chunk);
    let start = 0;
    let out = '';
    for (let end = text.indexOf(FRAME_END); end !== -1; end = text.indexOf(FRAME_END, start)) {
      const frame = this.frame(text.slice(start, end));
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

  private frame(frame: string): string | undefined {
    if (frame === DONE_FRAME) {
      this.done = true;
      return frame;
    }
    if (!frame.startsWith('data:')) return frame; // comments, event: lines
    this.frames++;
    if (frame.includes(USAGE_OBJECT)) return this.usageFrame(frame);
    if (!this.options.callerWantsUsage && frame.includes(USAGE_NULL)) return frame.replace(USAGE_NULL, '');
    if (frame.startsWith('data: {"error"')) this.errored = true;
    return frame;
  }

  private usageFrame(frame: string): string | undefined {
    let chunk: { usage?: TokenUsage; choices?: unknown[] };
    try {
      chunk = JSON.parse(frame.slice(frame.indexOf('{')));
    } catch {
      return frame;
    }
    if (chunk.usage) this.usage = chunk.usage;
    if (this.options.callerWantsUsage) return frame;
    if (!chunk.choices || chunk.choices.length === 0) {
      this.frames--;
      return undefined;
    }
    delete chunk.usage;
    return `data: ${JSON.stringify(chunk)}`;
  }
}

/** An SSE frame carrying an OpenAI-shaped error: the `openai` SDK raises it as an APIError. */
export function sseErrorFrame(message: string, type: string, code: string | null): string {
  return `data: ${JSON.stringify({ error: { message, type, param: null, code } })}${FRAME_END}`;
}

export const SSE_KEEP_ALIVE = `: keep-alive${FRAME_END}`;
