/**
 * The stream grammars of audio: speech with `stream_format: 'sse'` (`speech.audio.delta` events, then
 * `speech.audio.done` with the usage) and streamed transcription (`transcript.text.delta` and
 * `transcript.text.segment` events, then `transcript.text.done` with the usage). Both are typed events
 * relayed as they come, with no `[DONE]`; only the terminal event (and `error`) is parsed.
 */
import { readAudioUsage, type TokenUsage } from '../../runtime/pricing';
import type { StreamReader } from './spec';

/** The event type of a frame: its `event:` line, else the `type` its data starts with. */
function eventType(frame: string): string | undefined {
  if (frame.startsWith('event:')) {
    const end = frame.indexOf('\n');
    return frame.slice(6, end === -1 ? undefined : end).trim();
  }
  return /^data:\s*\{\s*"type"\s*:\s*"([^"]+)"/.exec(frame)?.[1];
}

function usageOf(frame: string): unknown {
  const at = frame.indexOf('data:');
  try {
    return (JSON.parse(frame.slice(at + 5)) as { usage?: unknown }).usage;
  } catch {
    return undefined;
  }
}

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
    const type = eventType(frame);
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
