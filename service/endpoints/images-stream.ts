/**
 * The stream grammar of image generation and edits: typed events (`event: image_generation.partial_image`
 * or `image_edit.partial_image`, then `…completed` with the image and, on token-billed models, its
 * usage), relayed as they come, with no `[DONE]`. A frame carries a whole base64 image, so frames may be
 * as large as a JSON answer. Only the completed events (and `error`) are parsed.
 *
 * The usage is the sum over the completed events, and is known only once every one of the `n` images
 * completed: a stream that ends short of that settles at its worst case, so an image upstream billed
 * but the gateway never saw is never free.
 */
import { readImageUsage, type TokenUsage } from '../../runtime/pricing';
import { eventDataOf, eventTypeOf } from './typed-events';
import type { PreparedCall, StreamReader } from './spec';

/** Largest image event accepted: one base64 image, as large as a JSON answer the gateway reads. */
export const MAX_IMAGE_FRAME_BYTES = 64 << 20;

const COMPLETED_EVENTS: ReadonlySet<string> = new Set(['image_generation.completed', 'image_edit.completed']);

/** The `usage` a frame's data carries. */
const usageOf = (frame: string): unknown => eventDataOf(frame)?.usage;

const add = (a: number | undefined, b: number | undefined) => (a ?? 0) + (b ?? 0);

function sum(a: TokenUsage, b: TokenUsage): TokenUsage {
  return {
    prompt_tokens: a.prompt_tokens + b.prompt_tokens,
    completion_tokens: add(a.completion_tokens, b.completion_tokens),
    prompt_tokens_details: {
      image_tokens: add(a.prompt_tokens_details?.image_tokens, b.prompt_tokens_details?.image_tokens),
    },
    completion_tokens_details: {
      image_tokens: add(a.completion_tokens_details?.image_tokens, b.completion_tokens_details?.image_tokens),
    },
  };
}

export class ImagesStreamReader implements StreamReader {
  done = false;
  errored = false;
  frames = 0;
  readonly maxFrameBytes = MAX_IMAGE_FRAME_BYTES;
  private completed = 0;
  private tokens: TokenUsage | undefined = { prompt_tokens: 0, completion_tokens: 0 };

  constructor(private readonly prepared: PreparedCall) {}

  /** Images the call asked for: the stream is whole once each of them completed. */
  private get expected(): number {
    const n = Number(this.prepared.body.n ?? 1);
    return Number.isInteger(n) && n > 0 ? n : 1;
  }

  get usage(): TokenUsage | undefined {
    if (this.completed < this.expected) return undefined;
    if (this.prepared.billedImages !== undefined)
      return { prompt_tokens: 0, completion_tokens: 0, images: this.completed };
    return this.tokens;
  }

  frame(frame: string): string | undefined {
    const type = eventTypeOf(frame);
    if (type === undefined) return frame; // comments
    this.frames++;
    if (COMPLETED_EVENTS.has(type)) {
      this.completed++;
      this.done = true;
      if (this.prepared.billedImages === undefined) {
        // One unreadable usage makes the whole unreadable: the call then settles at its worst case.
        const usage = readImageUsage(usageOf(frame));
        this.tokens = usage && this.tokens ? sum(this.tokens, usage) : undefined;
      }
    } else if (type === 'error') this.errored = true;
    return frame;
  }
}
