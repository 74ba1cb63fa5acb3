/**
 * Runs the fake OpenAI upstream as a process (the benchmark and manual tries use it):
 *
 *   node -r ts-node/register/transpile-only test/support/fake-openai/cli.ts --port 9000 --chunks 8 --chunk-delay-ms 5
 *
 * Flags win over env: FAKE_OPENAI_PORT, FAKE_OPENAI_HOST, FAKE_OPENAI_CHUNKS, FAKE_OPENAI_CHUNK_DELAY_MS,
 * FAKE_OPENAI_DELAY_MS, FAKE_OPENAI_TEXT, FAKE_OPENAI_RECORD (1 to keep requests; off by default so a
 * long benchmark does not grow memory). Prints one JSON line `{"url":"http://127.0.0.1:PORT/v1"}` when
 * ready; stops on SIGTERM/SIGINT.
 */
import { FakeBehaviour, startFakeOpenAI } from './index';

export interface FakeCliOptions {
  readonly port: number;
  readonly host: string;
  readonly behaviour: Partial<FakeBehaviour>;
}

export function parseFakeCliArgs(argv: readonly string[], env: NodeJS.ProcessEnv): FakeCliOptions {
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) continue;
    const eq = arg.indexOf('=');
    if (eq !== -1) flags.set(arg.slice(2, eq), arg.slice(eq + 1));
    else flags.set(arg.slice(2), argv[++i] ?? '');
  }
  const pick = (flag: string, envName: string) => flags.get(flag) ?? env[envName];
  const int = (flag: string, envName: string): number | undefined => {
    const v = pick(flag, envName);
    if (v === undefined || v === '') return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0)
      throw new Error(`--${flag} / ${envName} must be a non-negative integer`);
    return n;
  };
  const behaviour: Record<string, unknown> = { record: pick('record', 'FAKE_OPENAI_RECORD') === '1' };
  const chunks = int('chunks', 'FAKE_OPENAI_CHUNKS');
  if (chunks !== undefined) behaviour.chunks = chunks;
  const chunkDelayMs = int('chunk-delay-ms', 'FAKE_OPENAI_CHUNK_DELAY_MS');
  if (chunkDelayMs !== undefined) behaviour.chunkDelayMs = chunkDelayMs;
  const delayMs = int('delay-ms', 'FAKE_OPENAI_DELAY_MS');
  if (delayMs !== undefined) behaviour.delayMs = delayMs;
  const text = pick('text', 'FAKE_OPENAI_TEXT');
  if (text) behaviour.text = text;
  return {
    port: int('port', 'FAKE_OPENAI_PORT') ?? 0,
    host: pick('host', 'FAKE_OPENAI_HOST') || '127.0.0.1',
    behaviour: behaviour as Partial<FakeBehaviour>,
  };
}

export async function runFakeCli(argv = process.argv.slice(2), env = process.env): Promise<void> {
  const options = parseFakeCliArgs(argv, env);
  const fake = await startFakeOpenAI(options.behaviour, { port: options.port, host: options.host });
  process.stdout.write(`${JSON.stringify({ url: fake.url })}\n`);
  const stop = () => void fake.stop().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

if (require.main === module) {
  runFakeCli().catch((err: Error) => {
    console.error(`fake-openai: ${err.message}`);
    process.exit(1);
  });
}
