/**
 * One buffered writer for everything the gateway prints to stdout (JSON logs and EMF lines): lines are
 * gathered for the current event-loop turn and written together, so a busy gateway makes one write
 * syscall per turn rather than one per line. `flushSync` empties it on shutdown.
 */
import { writeSync } from 'node:fs';

export class LogSink {
  private buffer: string[] = [];
  private size = 0;
  private scheduled = false;

  constructor(
    /** File descriptor to write to. @default 1 (stdout) */
    private readonly fd = 1,
    /** Buffered characters that trigger an immediate write. @default 65536 */
    private readonly maxBuffered = 65_536,
  ) {}

  /** Takes one line (pino's lines already end in a newline). */
  write(line: string): void {
    const text = line.endsWith('\n') ? line : `${line}\n`;
    this.buffer.push(text);
    this.size += text.length;
    if (this.size >= this.maxBuffered) this.flushSync();
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flushSync());
    }
  }

  flushSync(): void {
    this.scheduled = false;
    if (this.buffer.length === 0) return;
    const bytes = Buffer.from(this.buffer.join(''));
    this.buffer = [];
    this.size = 0;
    let offset = 0;
    let busy = 0;
    while (offset < bytes.length) {
      try {
        offset += writeSync(this.fd, bytes, offset);
      } catch (err) {
        // A full non-blocking pipe: retry a little, then drop (losing log lines beats failing requests).
        if ((err as NodeJS.ErrnoException).code !== 'EAGAIN' || ++busy > 1000) return;
      }
    }
  }
}
