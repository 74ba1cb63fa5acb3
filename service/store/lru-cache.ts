/** A bounded in-process cache with per-entry expiry, evicting the least recently used entries first. */

export interface LruCacheOptions {
  /**
   * Most entries kept.
   * @default 10000
   */
  readonly maxEntries?: number;
  /**
   * Most bytes kept, counting keys and values as UTF-16 (2 bytes a character).
   * @default 64 MiB
   */
  readonly maxBytes?: number;
}

interface Entry {
  readonly value: string;
  readonly expiresAt: number;
  readonly bytes: number;
}

export class LruCache {
  private readonly entries = new Map<string, Entry>();
  private readonly maxEntries: number;
  private readonly maxBytes: number;
  private totalBytes = 0;

  constructor(options: LruCacheOptions = {}) {
    this.maxEntries = options.maxEntries ?? 10_000;
    this.maxBytes = options.maxBytes ?? 64 * 1024 * 1024;
  }

  get size(): number {
    return this.entries.size;
  }

  get bytes(): number {
    return this.totalBytes;
  }

  /** The live value under `key`, or null; a hit becomes the most recently used entry. */
  get(key: string, now: number): string | null {
    const entry = this.entries.get(key);
    if (entry === undefined) return null;
    this.entries.delete(key);
    if (entry.expiresAt <= now) {
      this.totalBytes -= entry.bytes;
      return null;
    }
    this.entries.set(key, entry);
    return entry.value;
  }

  set(key: string, value: string, ttlMs: number, now: number): void {
    this.delete(key);
    const bytes = 2 * (key.length + value.length);
    if (ttlMs <= 0 || bytes > this.maxBytes) return;
    this.entries.set(key, { value, expiresAt: now + ttlMs, bytes });
    this.totalBytes += bytes;
    // A Map iterates in insertion order, and get() re-inserts, so the first key is the least recently used.
    while (this.entries.size > this.maxEntries || this.totalBytes > this.maxBytes) {
      const oldest = this.entries.keys().next().value as string;
      this.delete(oldest);
    }
  }

  delete(key: string): void {
    const entry = this.entries.get(key);
    if (entry === undefined) return;
    this.entries.delete(key);
    this.totalBytes -= entry.bytes;
  }

  clear(): void {
    this.entries.clear();
    this.totalBytes = 0;
  }
}
