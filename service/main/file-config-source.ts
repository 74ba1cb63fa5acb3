/**
 * The `GATEWAY_CONFIG` file as a live config source: read again when it changes, watched on its
 * directory (an editor or `mv` replaces the file, which a watch on the file itself loses), debounced so
 * that a write in several chunks is read once, whole; and checked every `checkMs` (size and
 * modification time) for file systems whose watch misses changes (network and container mounts).
 * `readNow` reads it at once (SIGHUP). Every read goes to `onDocument`; the reloader ignores a document
 * whose version it runs already.
 */
import { watch, type FSWatcher } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type { ConfigDocument } from './live-config';

export interface FileConfigSourceOptions {
  readonly path: string;
  readonly onDocument: (document: ConfigDocument) => void;
  /** A read failed (the file is missing or unreadable): the running config stays. */
  readonly onError: (err: unknown) => void;
  /** How often the file's size and modification time are checked besides the watch, ms. @default 2000 */
  readonly checkMs?: number;
  /** How long a burst of change events is let settle before the file is read, ms. @default 100 */
  readonly debounceMs?: number;
}

export class FileConfigSource {
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private debounce: NodeJS.Timeout | undefined;
  /**
   * Size and mtime of the last read, so the periodic check reads only a changed file. Empty at start:
   * the first check reads the file once more, and the reloader ignores it if it is the version running.
   */
  private seen = '';

  constructor(private readonly options: FileConfigSourceOptions) {}

  /** Starts watching; the file was read at start by the settings. */
  start(): void {
    const { path } = this.options;
    const name = basename(path);
    this.watcher = watch(dirname(path), (_event, file) => {
      if (file === null || file === name) this.schedule();
    });
    this.watcher.on('error', (err) => this.options.onError(err));
    this.watcher.unref();
    this.timer = setInterval(() => void this.checkStamp(), this.options.checkMs ?? 2_000);
    this.timer.unref();
  }

  stop(): void {
    this.watcher?.close();
    clearInterval(this.timer);
    clearTimeout(this.debounce);
  }

  /** Reads the file now and hands it over (SIGHUP). */
  async readNow(source = this.options.path): Promise<void> {
    const { path, onDocument, onError } = this.options;
    try {
      this.seen = (await this.stamp()) ?? '';
      onDocument({ text: await readFile(path, 'utf8'), source });
    } catch (err) {
      onError(err);
    }
  }

  private schedule(): void {
    clearTimeout(this.debounce);
    this.debounce = setTimeout(() => void this.readNow(), this.options.debounceMs ?? 100);
    this.debounce.unref();
  }

  private async checkStamp(): Promise<void> {
    const stamp = await this.stamp();
    if (stamp !== undefined && stamp !== this.seen) this.schedule();
  }

  private async stamp(): Promise<string | undefined> {
    const s = await stat(this.options.path).catch(() => undefined);
    return s === undefined ? undefined : `${s.size}:${s.mtimeMs}`;
  }
}
