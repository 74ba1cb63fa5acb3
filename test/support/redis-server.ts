/**
 * A throwaway `redis-server` for tests and benchmarks: its own process on a free 127.0.0.1 port, no
 * persistence, optionally with a password, and controls to simulate outages.
 *
 * ```ts
 * const redis = await RedisServer.start({ password: 's3cret' });
 * // ... connect to redis.url ...
 * redis.pause();   // SIGSTOP: connections stay open, nothing answers (a hung node)
 * redis.resume();  // SIGCONT
 * await redis.kill();     // SIGKILL: connections drop (a crashed node); data is lost
 * await redis.restart();  // a fresh, empty server on the same port
 * await redis.stop();     // always, in afterAll
 * const replica = await RedisServer.start({ replicaOfPort: redis.port }); // a replica of it
 * ```
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';

export interface RedisServerOptions {
  /** Require this password (`--requirepass`), as ElastiCache's AUTH token does. @default none */
  readonly password?: string;
  /** Port to listen on. @default a free port */
  readonly port?: number;
  /** The binary. @default /usr/bin/redis-server if present, else `redis-server` on PATH */
  readonly binary?: string;
  /** Time allowed for the server to accept connections. @default 10000 */
  readonly startTimeoutMs?: number;
  /** Start as a replica of the server on this 127.0.0.1 port (`--replicaof`). @default a primary */
  readonly replicaOfPort?: number;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export class RedisServer {
  private child: ChildProcess | undefined;

  private constructor(
    /** The port the server listens on (kept across restarts). */
    readonly port: number,
    private readonly options: RedisServerOptions,
  ) {}

  /** Starts a server and resolves once it accepts connections. */
  static async start(options: RedisServerOptions = {}): Promise<RedisServer> {
    // A free port can be taken between the probe and redis binding it: retry with another one.
    for (let attempt = 1; ; attempt++) {
      const server = new RedisServer(options.port ?? (await freePort()), options);
      try {
        await server.spawn();
        return server;
      } catch (error) {
        if (options.port !== undefined || attempt >= 3) throw error;
      }
    }
  }

  /** `redis://[:password@]127.0.0.1:<port>`. */
  get url(): string {
    const auth = this.options.password === undefined ? '' : `:${encodeURIComponent(this.options.password)}@`;
    return `redis://${auth}127.0.0.1:${this.port}`;
  }

  /** `redis://127.0.0.1:<port>`, without the password (pass it separately, as the gateway does). */
  get urlWithoutPassword(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** The server's process id, or undefined while it is not running. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Freezes the server (SIGSTOP): TCP connections stay up but no command is answered. */
  pause(): void {
    this.child?.kill('SIGSTOP');
  }

  /** Thaws a paused server (SIGCONT); it then answers everything sent meanwhile. */
  resume(): void {
    this.child?.kill('SIGCONT');
  }

  /** Kills the server (SIGKILL) and waits until it is gone; clients see their connections drop. */
  async kill(): Promise<void> {
    await this.terminate('SIGKILL');
  }

  /** Starts a fresh, empty server on the same port (after `kill` or `stop`; kills a running one first). */
  async restart(): Promise<void> {
    await this.terminate('SIGKILL');
    await this.spawn();
  }

  /** Stops the server and waits for it to exit. Safe to call more than once. */
  async stop(): Promise<void> {
    await this.terminate('SIGTERM');
  }

  private async terminate(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (child === undefined) return;
    this.child = undefined;
    if (child.exitCode !== null || child.signalCode !== null) {
      running.delete(child);
      return;
    }
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGCONT'); // a stopped process does not act on SIGTERM until it runs again
    child.kill(signal);
    await exited;
    running.delete(child);
  }

  private spawn(): Promise<void> {
    const binary =
      this.options.binary ?? (existsSync('/usr/bin/redis-server') ? '/usr/bin/redis-server' : 'redis-server');
    const args = [
      '--port',
      String(this.port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      tmpdir(),
      '--loglevel',
      'notice',
      ...(this.options.password === undefined ? [] : ['--requirepass', this.options.password]),
      ...(this.options.replicaOfPort === undefined
        ? []
        : ['--replicaof', '127.0.0.1', String(this.options.replicaOfPort)]),
    ];
    const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(child);
    this.child = child;
    const timeoutMs = this.options.startTimeoutMs ?? 10_000;

    return new Promise<void>((resolve, reject) => {
      let output = '';
      const fail = (problem: string): void => {
        clearTimeout(timer);
        running.delete(child);
        if (this.child === child) this.child = undefined;
        child.kill('SIGKILL');
        reject(new Error(`redis-server on port ${this.port} ${problem}\n${output.slice(-2000)}`));
      };
      const timer = setTimeout(() => fail(`did not start within ${timeoutMs} ms`), timeoutMs);
      const onData = (chunk: Buffer): void => {
        output += chunk.toString();
        if (output.includes('Ready to accept connections')) {
          clearTimeout(timer);
          child.stdout?.off('data', onData);
          child.stdout?.resume(); // keep draining so a full pipe never blocks the server
          resolve();
        }
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.once('error', (error) => fail(`could not be spawned: ${error.message}`));
      child.once('exit', (code, signal) => {
        if (output.includes('Ready to accept connections')) return;
        fail(`exited before it was ready (code ${code}, signal ${signal})`);
      });
    });
  }
}

/** A TCP port on 127.0.0.1 that nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.unref();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}
