/**
 * The stream grammar of chat completions: `data: {chunk}` frames, then `data: [DONE]`. Only frames that
 * carry a `usage` object are parsed (a substring check finds them). The gateway always asks for the
 * usage chunk; when the caller did not, that chunk is dropped, and so is the `"usage":null` member
 * upstream then adds to every other chunk.
 */
import { readUsage, type TokenUsage } from '../../runtime/pricing';
import type { StreamReader } from './spec';

const DONE_FRAME = 'data: [DONE]';
const USAGE_OBJECT = '"usage":{';
const USAGE_NULL = ',"usage":null';

export class ChatStreamReader implements StreamReader {
  usage: TokenUsage | undefined;
  done = false;
  errored = false;
  frames = 0;

  constructor(private readonly callerWantsUsage: boolean) {}

  frame(frame: string): string | undefined {
    if (frame === DONE_FRAME) {
      this.done = true;
      return frame;
    }
    if (!frame.startsWith('data:')) return frame; // comments, event: lines
    this.frames++;
    if (frame.includes(USAGE_OBJECT)) return this.usageFrame(frame);
    if (!this.callerWantsUsage && frame.includes(USAGE_NULL)) return frame.replace(USAGE_NULL, '');
    if (frame.startsWith('data: {"error"')) this.errored = true;
    return frame;
  }

  private usageFrame(frame: string): string | undefined {
    let chunk: { usage?: unknown; choices?: unknown[] };
    try {
      chunk = JSON.parse(frame.slice(frame.indexOf('{')));
    } catch {
      return frame;
    }
    // An unreadable usage stays undefined: the call then settles at its worst case.
    if (chunk.usage) this.usage = readUsage(chunk.usage);
    if (this.callerWantsUsage) return frame;
    if (!chunk.choices || chunk.choices.length === 0) {
      this.frames--;
      return undefined;
    }
    delete chunk.usage;
    return `data: ${JSON.stringify(chunk)}`;
  }
}
