import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'node:net';
import { freePort, httpAnswers, PinnedProcess, SERVER_CORE, waitUntil } from './processes';
import { containerNodeFlags } from '../../service/main/build';

/** The caller key every bench request sends to the gateway (only its SHA-256 goes into the config). */
export const BENCH_CLIENT_KEY = 'sk-gw-bench-0000000000000000000000000000000000000000';
/** The upstream key the gateway and the minimal proxy send to the fake upstream. */
export const BENCH_UPSTREAM_KEY = 'sk-bench-upstream';
export const BENCH_CLIENT_KEY_SHA256 = createHash('sha256').update(BENCH_CLIENT_KEY).digest('hex');

/** A server under test: its process and the origin to send requests to. */
export interface Target {
  readonly name: string;
  readonly origin: string;
  readonly process: PinnedProcess;
}

/** Starts a `redis-server` with no persistence on a free port, pinned to the server core. */
export async function startRedis(core = SERVER_CORE): Promise<Target & { readonly url: string }> {
  const port = await freePort();
  const proc = new PinnedProcess({
    name: 'redis-server',
    core,
    command: [
      'redis-server',
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--protected-mode',
      'yes',
    ],
  });
  await waitUntil(proc, () => tcpAnswers(port));
  return {
    name: 'redis',
    origin: `redis://127.0.0.1:${port}`,
    url: `redis://127.0.0.1:${port}`,
    process: proc,
  };
}

function tcpAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Behaviour of the fake upstream process (see test/support/fake-openai/cli.ts). */
export interface FakeUpstreamOptions {
  /** Content chunks in a streamed answer. */
  readonly chunks: number;
  /** Pause between stream chunks, ms. */
  readonly chunkDelayMs: number;
  /** The completion text. */
  readonly text: string;
}

export async function startFakeUpstream(
  bundle: string,
  options: FakeUpstreamOptions,
  core = SERVER_CORE,
): Promise<Target> {
  const port = await freePort();
  const proc = new PinnedProcess({
    name: 'fake-openai',
    core,
    command: [process.execPath, bundle],
    env: {
      FAKE_OPENAI_PORT: String(port),
      FAKE_OPENAI_HOST: '127.0.0.1',
      FAKE_OPENAI_CHUNKS: String(options.chunks),
      FAKE_OPENAI_CHUNK_DELAY_MS: String(options.chunkDelayMs),
      FAKE_OPENAI_DELAY_MS: '0',
      FAKE_OPENAI_TEXT: options.text,
      FAKE_OPENAI_RECORD: '0',
    },
  });
  const origin = `http://127.0.0.1:${port}`;
  await waitUntil(proc, () => httpAnswers(`${origin}/v1/models`));
  return { name: 'direct', origin, process: proc };
}

export async function startMinimalProxy(bundle: string, upstreamOrigin: string): Promise<Target> {
  const port = await freePort();
  const proc = new PinnedProcess({
    name: 'minimal-proxy',
    command: [process.execPath, bundle],
    env: { PORT: String(port), UPSTREAM_URL: upstreamOrigin, UPSTREAM_API_KEY: BENCH_UPSTREAM_KEY },
  });
  const origin = `http://127.0.0.1:${port}`;
  await waitUntil(proc, () => httpAnswers(`${origin}/v1/models`));
  return { name: 'minimal proxy', origin, process: proc };
}

export async function startRateLimitedUpstream(
  bundle: string,
  upstreamOrigin: string,
  rpm: number,
): Promise<Target> {
  const port = await freePort();
  const proc = new PinnedProcess({
    name: 'rate-limited-upstream',
    command: [process.execPath, bundle],
    env: { PORT: String(port), UPSTREAM_URL: upstreamOrigin, RPM: String(rpm) },
  });
  const origin = `http://127.0.0.1:${port}`;
  await waitUntil(proc, () => httpAnswers(`${origin}/__bench/stats`));
  return { name: 'rate-limited upstream', origin, process: proc };
}

export interface GatewayStartOptions {
  /** The bundled gateway, `index.js` from service/build.ts. */
  readonly bundle: string;
  /** The config document (validated by the gateway at start). */
  readonly config: unknown;
  readonly upstreamOrigin: string;
  readonly redisUrl: string;
  /** Directory for the config file. */
  readonly workDir: string;
  /** Label for the config file and error messages. */
  readonly label: string;
  /** Extra node flags, e.g. `--cpu-prof`. */
  readonly nodeFlags?: readonly string[];
  /** Extra environment, e.g. the spend ledger's table and endpoint. @default none */
  readonly env?: Readonly<Record<string, string>>;
}

/** A server under test whose stdout (JSON log lines) is kept in a file. */
export interface LoggingTarget extends Target {
  readonly logFile: string;
}

export async function startGateway(options: GatewayStartOptions): Promise<LoggingTarget> {
  const port = await freePort();
  const configPath = join(options.workDir, `gateway-${options.label}.json`);
  writeFileSync(configPath, JSON.stringify(options.config, null, 2));
  const logFile = join(options.workDir, `gateway-${options.label}.log`);
  const proc = new PinnedProcess({
    name: `gateway (${options.label})`,
    stdoutFile: logFile,
    // The container's own flags first (service/Dockerfile CMD); extra flags after them win.
    command: [process.execPath, ...containerNodeFlags(), ...(options.nodeFlags ?? []), options.bundle],
    cwd: options.workDir,
    env: {
      PORT: String(port),
      HOST: '127.0.0.1',
      OPENAI_BASE_URL: `${options.upstreamOrigin}/v1`,
      OPENAI_API_KEY: BENCH_UPSTREAM_KEY,
      REDIS_URL: options.redisUrl,
      GATEWAY_CONFIG: configPath,
      NODE_ENV: 'production',
      ...options.env,
    },
  });
  const origin = `http://127.0.0.1:${port}`;
  await waitUntil(proc, async () => {
    const res = await fetch(`${origin}/readyz`, { signal: AbortSignal.timeout(1000) });
    await res.arrayBuffer();
    return res.status === 200;
  });
  return { name: 'gateway', origin, process: proc, logFile };
}

/**
 * Counts the gateway's log lines at warn level or above by message, so a run that went through the
 * store's fallback (Redis timeouts, an open circuit) says so next to its figures.
 */
export function gatewayWarnings(logFile: string): Record<string, number> {
  const counts: Record<string, number> = {};
  if (!existsSync(logFile)) return counts;
  const text = readFileSync(logFile, 'utf8');
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const entry = JSON.parse(line) as { level?: number | string; msg?: string };
      const level =
        typeof entry.level === 'number'
          ? entry.level
          : ({ warn: 40, error: 50, fatal: 60 }[entry.level ?? ''] ?? 30);
      if (level >= 40) counts[entry.msg ?? '(no msg)'] = (counts[entry.msg ?? '(no msg)'] ?? 0) + 1;
    } catch {
      // not a JSON log line (EMF lines are JSON too, without level: skipped above as level 30)
    }
  }
  return counts;
}
