import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** Core the load generator (this process) runs on. */
export const LOAD_CORE = 0;
/** Core every server under test (upstream, proxy, gateway, Redis) runs on. */
export const SERVER_CORE = 1;

const TICKS_PER_SECOND = readClockTicks();

function readClockTicks(): number {
  const out = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  const ticks = Number(out.stdout?.trim());
  return Number.isFinite(ticks) && ticks > 0 ? ticks : 100;
}

/** Pins every thread of this process to one core, so the load generator never competes with the servers. */
export function pinSelf(core: number): void {
  const out = spawnSync('taskset', ['-a', '-cp', String(core), String(process.pid)], { encoding: 'utf8' });
  if (out.status !== 0) throw new Error(`taskset failed: ${out.stderr || out.error?.message}`);
}

/** A free 127.0.0.1 TCP port (bound, read and released; the tiny race is harmless on a quiet machine). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface PinnedProcessOptions {
  /** Label used in error messages. */
  readonly name: string;
  /** Executable and arguments. */
  readonly command: readonly string[];
  /** Core to pin the process to. @default SERVER_CORE */
  readonly core?: number;
  /** Extra environment variables. */
  readonly env?: Readonly<Record<string, string>>;
  /** Working directory. @default process.cwd() */
  readonly cwd?: string;
  /** File that receives the process's stdout (e.g. the gateway's JSON logs). @default discarded */
  readonly stdoutFile?: string;
}

/** A server process started by the benchmark, pinned with `taskset`, in its own process group. */
export class PinnedProcess {
  private readonly child: ChildProcess;
  private stderrTail = '';
  private exited = false;

  constructor(readonly options: PinnedProcessOptions) {
    const core = options.core ?? SERVER_CORE;
    // taskset execs the command, so the child's pid is the server's own pid (used for /proc readings).
    this.child = spawn('taskset', ['-c', String(core), ...options.command], {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      detached: true,
      stdio: ['ignore', options.stdoutFile ? openSync(options.stdoutFile, 'w') : 'ignore', 'pipe'],
    });
    this.child.stderr?.on('data', (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString('utf8')).slice(-4000);
    });
    this.child.on('exit', () => {
      this.exited = true;
    });
    liveProcesses.add(this);
  }

  get pid(): number {
    if (this.child.pid === undefined) throw new Error(`${this.options.name}: not started`);
    return this.child.pid;
  }

  get hasExited(): boolean {
    return this.exited;
  }

  /** The last few KB the process wrote to stderr, for error messages. */
  get stderr(): string {
    return this.stderrTail;
  }

  /** User + system CPU time of the process so far, in microseconds. */
  cpuMicros(): number {
    const stat = readFileSync(`/proc/${this.pid}/stat`, 'utf8');
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15 of the whole line.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return (ticks * 1_000_000) / TICKS_PER_SECOND;
  }

  /** Current resident set size in MB (VmRSS). */
  rssMb(): number {
    return readStatusKb(this.pid, 'VmRSS') / 1024;
  }

  /** Peak resident set size in MB since start (VmHWM). */
  peakRssMb(): number {
    return readStatusKb(this.pid, 'VmHWM') / 1024;
  }

  /** SIGTERM to the process group, SIGKILL after `graceMs`. Resolves when the process is gone. */
  async stop(graceMs = 3000): Promise<void> {
    liveProcesses.delete(this);
    if (this.exited || this.child.pid === undefined) return;
    const gone = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    signalGroup(this.child.pid, 'SIGTERM');
    const timer = setTimeout(() => signalGroup(this.child.pid!, 'SIGKILL'), graceMs);
    await gone;
    clearTimeout(timer);
  }

  /** Immediate SIGKILL of the process group, for exit paths that cannot wait. */
  killNow(): void {
    liveProcesses.delete(this);
    if (!this.exited && this.child.pid !== undefined) signalGroup(this.child.pid, 'SIGKILL');
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

function readStatusKb(pid: number, field: string): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  return match ? Number(match[1]) : Number.NaN;
}

const liveProcesses = new Set<PinnedProcess>();

/** Kills every process this benchmark started and has not stopped yet (exit and signal paths). */
export function killAllStarted(): void {
  for (const p of [...liveProcesses]) p.killNow();
}

process.once('exit', killAllStarted);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    killAllStarted();
    process.exit(130);
  });
}

/** Polls `probe` until it resolves true, the process exits, or `timeoutMs` passes. */
export async function waitUntil(
  proc: PinnedProcess,
  probe: () => Promise<boolean>,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.hasExited) throw new Error(`${proc.options.name} exited during start:\n${proc.stderr}`);
    if (await probe().catch(() => false)) return;
    await sleep(50);
  }
  throw new Error(`${proc.options.name} not ready after ${timeoutMs} ms:\n${proc.stderr}`);
}

/** True when an HTTP GET of `url` answers with a status below 500. */
export async function httpAnswers(url: string): Promise<boolean> {
  const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
  await res.arrayBuffer();
  return res.status < 500;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
