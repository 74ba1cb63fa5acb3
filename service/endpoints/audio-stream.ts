/**
 * The stream grammars of audio: speech with `stream_format: 'sse'` (`speech.audio.delta` events, then
 * `speech.audio.done` with the usage) and streamed transcription (`transcript.text.delta` and
 * `transcript.text.segment` events, then `transcript.text.done` with the usage). Both are typed events
 * relayed as they come, with no `[DONE]`; only the terminal event (and `error`) is parsed.
 */
import { readAudioUsage, type TokenUsage } from '../../runtime/pricing';
import type { StreamReader } from './spec';
import { eventDataOf, eventTypeOf } from './typed-events';

/** The `usage` a frame's data carries. */
const usageOf = (frame: string): unknown => eventDataOf(frame)?.usage;

/** A grammar whose stream ends at one terminal event carrying the usage. */
class TerminalEventReader implements StreamReader {
  usage: TokenUsage | undefined;
  done = false;
  errored = false;
  frames = 0;

  constructor(
    private readonly terminal: string,
    /** The usage's output tokens are audio (speech). */
    private readonly outputIsAudio: boolean,
  ) {}

  frame(frame: string): string | undefined {
    const type = eventTypeOf(frame);
    if (type === undefined) return frame; // comments
    this.frames++;
    if (type === this.terminal) {
      this.done = true;
      // An unreadable usage stays undefined: the call then settles at its worst case.
      this.usage = readAudioUsage(usageOf(frame), this.outputIsAudio);
    } else if (type === 'error') this.errored = true;
    return frame;
  }
}

export class SpeechStreamReader extends TerminalEventReader {
  constructor() {
    super('speech.audio.done', true);
  }
}

export class TranscriptionStreamReader extends TerminalEventReader {
  constructor() {
    super('transcript.text.done', false);
  }
}
