/**
 * Polls pending entries (background responses, batches) one poll at a time, on a timer and on demand.
 * A poll asked for while one runs starts once it ends, so it sees everything that happened before it
 * was asked (the running one may have read an entry before its object ended); a timer tick while one
 * runs is skipped. Each poll reads the next window of entries, so a long list is read in turns.
 */
export type PollOnce = (window: { readonly signal: AbortSignal; readonly from: number }) => Promise<number>;

export class Poller {
  private timer: NodeJS.Timeout | undefined;
  private readonly stopping = new AbortController();
  private running: Promise<number> | undefined;
  private next = 0;

  constructor(
    private readonly pollOnce: PollOnce,
    /** Entries one poll reads: the next poll starts that many further in. */
    private readonly windowSize: number,
  ) {}

  /** Polls every `intervalMs` until `stop`. */
  start(intervalMs: number): void {
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => {
      if (this.running === undefined) void this.pollNow();
    }, intervalMs);
    this.timer.unref();
  }

  /** One poll, after any running one. @returns how many entries it settled */
  pollNow(): Promise<number> {
    const from = this.next;
    this.next += this.windowSize;
    const previous = this.running ?? Promise.resolve(0);
    const poll = previous.then(() =>
      this.stopping.signal.aborted ? 0 : this.pollOnce({ signal: this.stopping.signal, from }),
    );
    this.running = poll;
    const clear = () => {
      if (this.running === poll) this.running = undefined;
    };
    poll.then(clear, clear);
    return poll;
  }

  /** Stops the timer and any poll in flight (it ends at its next entry). */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    this.stopping.abort();
    await this.running?.catch(() => undefined);
  }
}
