/**
 * The command deadline counts the time the event loop was free, not the time it was held. Each test
 * holds the loop with a busy wait; orderings come from the loop's phases (timers before the check
 * phase of the next turn), never from elapsed-time assertions.
 */
import {
  CommandDeadline,
  CommandTimeoutError,
  LoopStallMeter,
} from '../../../service/store/command-deadline';

const TIMEOUT_MS = 50;

function busyWait(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // spin
  }
}

let deadline: CommandDeadline;
beforeEach(() => {
  deadline = new CommandDeadline({ timeoutMs: TIMEOUT_MS, meter: new LoopStallMeter() });
});
afterEach(() => deadline.close());

/** A command whose reply the test hands over. */
function pendingCommand(): { promise: Promise<string>; reply: (value: string) => void } {
  let reply!: (value: string) => void;
  const promise = new Promise<string>((resolve) => (reply = resolve));
  return { promise, reply };
}

it('answers a reply that came after the loop was held past the timeout', async () => {
  const command = pendingCommand();
  const answer = deadline.run(command.promise);
  setImmediate(() => {
    busyWait(4 * TIMEOUT_MS);
    // Read in the next turn: its timers (the deadline's) run first, as for a reply waiting in a socket.
    setImmediate(() => command.reply('OK'));
  });
  await expect(answer).resolves.toBe('OK');
});

it('fails a command that has no reply once the loop was free for the timeout', async () => {
  const command = pendingCommand();
  const answer = deadline.run(command.promise);
  setImmediate(() => busyWait(4 * TIMEOUT_MS));
  await expect(answer).rejects.toBeInstanceOf(CommandTimeoutError);
});

it('passes on a failed command as it failed', async () => {
  await expect(deadline.run(Promise.reject(new Error('READONLY')))).rejects.toThrow('READONLY');
});

it('meters the held loop, the stall in progress included', () => {
  const meter = new LoopStallMeter();
  try {
    const before = meter.stalledUntilNow();
    busyWait(4 * TIMEOUT_MS);
    expect(meter.stalledUntilNow() - before).toBeGreaterThanOrEqual(4 * TIMEOUT_MS - 10 - 1);
  } finally {
    meter.close();
  }
});
