/**
 * The real bundle (`dist/gateway/index.js`, built by the jest global setup with the same function the
 * container image uses) started as a child process, configured only through its environment.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { containerNodeFlags } from '../../service/main/build';

const ROOT = join(__dirname, '..', '..');
const BUNDLE = join(ROOT, 'dist', 'gateway', 'index.js');

/** The Node.js the container and the Lambdas run (`scripts/fetch-node24.sh`, which `npm test` runs first). */
export const NODE_24 = join(ROOT, '.cache', 'node-24.22.3', 'package', 'bin', 'node');

/**
 * This machine's Node.js and the container's Node 24 (`npm test` fetches it; a bare `npx jest` without it
 * runs this machine's only, and CI fails if it is missing): `describe.each` over them.
 */
export const NODE_BINARIES: ReadonlyArray<readonly [string, string]> = [
  [`node ${process.versions.node}`, process.execPath],
  ...(existsSync(NODE_24) || process.env.CI ? [['node 24', NODE_24] as const] : []),
];

export interface GatewayProcess {
  readonly process: ChildProcess;
  stdout: string;
  stderr: string;
  readonly exit: Promise<number | null>;
}

/** Starts the bundle on 127.0.0.1 and a free port with only `env` (and PATH) in its environment. */
export function runGateway(env: Record<string, string>, node = process.execPath): GatewayProcess {
  const child = spawn(node, [...containerNodeFlags(), BUNDLE], {
    // Shedding off unless a test sets it, as in the in-process harness: a loaded CI machine stalls loops.
    env: {
      PATH: process.env.PATH ?? '',
      HOST: '127.0.0.1',
      PORT: '0',
      SHED_EVENT_LOOP_DELAY_MS: '0',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const c: GatewayProcess = {
    process: child,
    stdout: '',
    stderr: '',
    exit: new Promise((resolve) => child.once('exit', (code) => resolve(code))),
  };
  child.stdout!.on('data', (d: Buffer) => (c.stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (c.stderr += d.toString()));
  return c;
}

/** The `/v1` URL the process logged once listening. */
export async function listeningUrl(c: GatewayProcess): Promise<string> {
  for (let i = 0; i < 500; i++) {
    const line = c.stdout.split('\n').find((l) => l.includes('"gateway listening"'));
    if (line) return (JSON.parse(line) as { url: string }).url;
    if (c.process.exitCode !== null) throw new Error(`gateway exited: ${c.stderr}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`gateway did not start: ${c.stdout}\n${c.stderr}`);
}

/** The sum of one metric over the stage-level EMF lines (those without a Model or Client dimension) of a gateway's stdout. */
export function stageMetricSum(stdout: string, metric: string): number {
  let sum = 0;
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('{"_aws"')) continue;
    const entry = JSON.parse(line) as Record<string, unknown>;
    if ('Model' in entry || 'Client' in entry) continue;
    if (typeof entry[metric] === 'number') sum += entry[metric];
  }
  return sum;
}
