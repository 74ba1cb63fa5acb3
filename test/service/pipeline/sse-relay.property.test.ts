/**
 * Property-based: whatever the frames, line endings (LF, CRLF, CR) and chunk boundaries upstream
 * produces, the relay forwards every frame once, in order, with its lines intact.
 */
import fc from 'fast-check';
import type { StreamReader } from '../../../service/endpoints';
import { MAX_SSE_FRAME_BYTES, SseFrameTooLargeError, SseRelay } from '../../../service/pipeline/sse-relay';

/** Forwards every frame as is, so the test sees exactly what the relay split. */
class EchoReader implements StreamReader {
  usage = undefined;
  done = false;
  errored = false;
  frames = 0;
  frame(frame: string): string {
    this.frames++;
    return frame;
  }
}

const line = fc.stringMatching(/^[^\r\n]{0,40}$/).map((s) => `data: ${s}`);
const frame = fc.array(line, { minLength: 1, maxLength: 4 });
const eol = fc.constantFrom('\n', '\r\n', '\r');

/** Each frame with one line ending throughout (a CR then an LF would be one CRLF, not two ends). */
function encode(frames: string[][], eols: string[]): string {
  return frames
    .map((lines, k) => {
      const eol = eols[k % eols.length];
      return lines.map((l) => l + eol).join('') + eol;
    })
    .join('');
}

function splitAt(bytes: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const parts: Buffer[] = [];
  let from = 0;
  for (const p of points) {
    parts.push(bytes.subarray(from, p));
    from = p;
  }
  parts.push(bytes.subarray(from));
  return parts;
}

describe('SseRelay properties', () => {
  it('forwards every frame once, in order, whatever the line endings and chunk boundaries', () => {
    fc.assert(
      fc.property(
        fc.array(frame, { minLength: 1, maxLength: 12 }),
        fc.array(eol, { minLength: 1, maxLength: 5 }),
        fc.array(fc.nat(), { maxLength: 20 }),
        (frames, eols, cuts) => {
          const relay = new SseRelay(new EchoReader(), true);
          const bytes = Buffer.from(encode(frames, eols));
          let out = '';
          for (const part of splitAt(bytes, cuts)) out += relay.push(part);
          expect(out).toBe(frames.map((lines) => lines.join('\n') + '\n\n').join(''));
          expect(relay.forwarded).toBe(out);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('splits a UTF-8 character anywhere without corrupting it', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme', maxLength: 30 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        (text, cuts) => {
          const clean = text.replace(/[\r\n]/g, '');
          const relay = new SseRelay(new EchoReader(), false);
          let out = '';
          for (const part of splitAt(Buffer.from(`data: ${clean}\n\n`), cuts)) out += relay.push(part);
          expect(out).toBe(`data: ${clean}\n\n`);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('SseRelay limits', () => {
  it('fails a stream whose frame grows past the limit instead of buffering it', () => {
    const relay = new SseRelay(new EchoReader(), false);
    const chunk = Buffer.from('x'.repeat(64 * 1024));
    expect(() => {
      for (let sent = 0; sent <= MAX_SSE_FRAME_BYTES + chunk.length; sent += chunk.length) relay.push(chunk);
    }).toThrow(SseFrameTooLargeError);
  });
});
