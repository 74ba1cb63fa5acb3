/**
 * Frames of the typed-event streams (Responses, images, speech, transcription): `event: <type>` then
 * `data: {…}`, or a `data:` line alone whose JSON starts with its `type`. Only the frames a grammar
 * needs are parsed.
 */
import { parseJsonObject, type JsonObject } from '../../runtime/json';

/** The event type of a frame: its `event:` line, else the `type` its data starts with. */
export function eventTypeOf(frame: string): string | undefined {
  if (frame.startsWith('event:')) {
    const end = frame.indexOf('\n');
    return frame.slice(6, end === -1 ? undefined : end).trim();
  }
  return /^data:\s*\{\s*"type"\s*:\s*"([^"]+)"/.exec(frame)?.[1];
}

/** The JSON of a frame's `data:`, or undefined when it has none or it does not parse. */
export function eventDataOf(frame: string): JsonObject | undefined {
  const at = frame.indexOf('data:');
  return at === -1 ? undefined : parseJsonObject(frame.slice(at + 5));
}
