/**
 * The stream grammar of the Responses API: typed events (`event: <type>` and `data: {…}` with a
 * `sequence_number`), relayed as they come, with no `[DONE]`. The stream is complete at its terminal
 * event, `response.completed`, `response.incomplete` or `response.failed`, whose `response.usage` is
 * the call's usage; `response.created` names the response. Only those frames, and `error`, are parsed.
 */
import { readResponsesUsage, type TokenUsage } from '../../runtime/pricing';
import type { StreamReader } from './spec';

const TERMINAL_EVENTS: ReadonlySet<string> = new Set([
  'response.completed',
  'response.incomplete',
  'response.failed',
]);

/** The event type of a frame: its `event:` line, else the `type` its data starts with. */
function eventType(frame: string): string | undefined {
  if (frame.startsWith('event:')) {
    const end = frame.indexOf('\n');
    return frame.slice(6, end === -1 ? undefined : end).trim();
  }
  const match = /^data:\s*\{"type":"([^"]+)"/.exec(frame);
  return match?.[1];
}

function dataOf(frame: string): { response?: { id?: unknown; usage?: unknown } } | undefined {
  const at = frame.indexOf('data:');
  if (at === -1) return undefined;
  try {
    return JSON.parse(frame.slice(at + 5));
  } catch {
    return undefined;
  }
}

export class ResponsesStreamReader implements StreamReader {
  usage: TokenUsage | undefined;
  done = false;
  errored = false;
  frames = 0;
  createdId: string | undefined;

  frame(frame: string): string | undefined {
    const type = eventType(frame);
    if (type === undefined) return frame; // comments
    this.frames++;
    if (type === 'response.created') {
      const id = dataOf(frame)?.response?.id;
      if (typeof id === 'string') this.createdId = id;
    } else if (TERMINAL_EVENTS.has(type)) {
      this.done = true;
      if (type === 'response.failed') this.errored = true;
      // An unreadable usage stays undefined: the call then settles at its worst case.
      this.usage = readResponsesUsage(dataOf(frame)?.response?.usage);
    } else if (type === 'error') this.errored = true;
    return frame;
  }
}
