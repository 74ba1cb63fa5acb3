/**
 * The stream grammar of the Responses API: typed events (`event: <type>` and `data: {…}` with a
 * `sequence_number`), relayed as they come, with no `[DONE]`. The stream is complete at its terminal
 * event, `response.completed`, `response.incomplete` or `response.failed`, whose `response.usage` is
 * the call's usage; `response.created` names the response. Only those frames, and `error`, are parsed.
 */
import { readResponsesUsage, type TokenUsage } from '../../runtime/pricing';
import type { StreamReader } from './spec';
import { eventDataOf, eventTypeOf } from './typed-events';

/** The `response` object a frame's data carries (`response.created` and the terminal events). */
const responseOf = (frame: string) =>
  eventDataOf(frame)?.response as { id?: unknown; usage?: unknown } | undefined;

const TERMINAL_EVENTS: ReadonlySet<string> = new Set([
  'response.completed',
  'response.incomplete',
  'response.failed',
]);

export class ResponsesStreamReader implements StreamReader {
  usage: TokenUsage | undefined;
  done = false;
  errored = false;
  frames = 0;
  createdId: string | undefined;

  frame(frame: string): string | undefined {
    const type = eventTypeOf(frame);
    if (type === undefined) return frame; // comments
    this.frames++;
    if (type === 'response.created') {
      const id = responseOf(frame)?.id;
      if (typeof id === 'string') this.createdId = id;
    } else if (TERMINAL_EVENTS.has(type)) {
      this.done = true;
      if (type === 'response.failed') this.errored = true;
      // An unreadable usage stays undefined: the call then settles at its worst case.
      this.usage = readResponsesUsage(responseOf(frame)?.usage);
    } else if (type === 'error') this.errored = true;
    return frame;
  }
}
