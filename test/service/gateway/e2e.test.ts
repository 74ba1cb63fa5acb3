/** The real bundle started as a child process (test/support/gateway-process.ts), configured only through its environment. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { FakeOpenAI } from '../../support/fake-openai';
import { chatBody, KEYS, testConfigDocument, UPSTREAM_KEY } from '../../support/gateway-harness';
import { eventually } from '../../support/eventually';
import { listeningUrl, runGateway, type GatewayProcess } from '../../support/gateway-process';

type ChatChunks = AsyncIterator<OpenAI.Chat.Completions.ChatCompletionChunk>;

/** Reads a stream until its first content arrives. */
async function firstWords(reader: ChatChunks): Promise<string> {
  let text = '';
  while (text === '') {
    const next = await reader.next();
    if (next.done) throw new Error('stream ended before any content');
    text += next.value.choices[0]?.delta.content ?? '';
  }
  return text;
}

/** Reads the rest of a stream's content. */
async function rest(reader: ChatChunks): Promise<string> {
  let text = '';
  for (let next = await reader.next(); !next.done; next = await reader.next())
    text += next.value.choices[0]?.delta.content ?? '';
  return text;
}

describe('gateway bundle as a process', () => {
  let fake: FakeOpenAI;
  let dir: string;
  const children: GatewayProcess[] = [];

  const writeConfig = (doc: unknown) => {
    const path = join(dir, `config-${children.length}-${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(path, JSON.stringify(doc));
    return path;
  };
  const start = (env: Record<string, string>) => {
    const c = runGateway(env);
    children.push(c);
    return c;
  };

  beforeAll(async () => {
    fake = new FakeOpenAI();
    await fake.start();
    dir = mkdtempSync(join(tmpdir(), 'gateway-e2e-'));
  });
  afterEach(() => fake.reset());
  afterAll(async () => {
    for (const c of children) if (c.process.exitCode === null) c.process.kill('SIGKILL');
    await fake.stop();
  });

  it('serves requests from a config file with the in-memory store, and logs no secret', async () => {
    const c = start({
      OPENAI_BASE_URL: fake.url,
      OPENAI_API_KEY: UPSTREAM_KEY,
      GATEWAY_CONFIG: writeConfig(testConfigDocument()),
    });
    const url = await listeningUrl(c);
    const sdk = new OpenAI({ baseURL: url, apiKey: KEYS.app, maxRetries: 0 });
    const res = await sdk.chat.completions.create(chatBody('bundle prompt'));
    expect(res.choices[0].message.content).toBe(fake.behaviour.text);
    expect(fake.requests[0].apiKey).toBe(UPSTREAM_KEY);
    const ready = await fetch(url.replace(/\/v1$/, '/readyz'));
    expect(ready.status).toBe(200);
    c.process.kill('SIGTERM');
    expect(await c.exit).toBe(0);
    expect(c.stdout).toContain('"request completed"');
    expect(c.stdout).toContain('"_aws"');
    for (const secret of [KEYS.app, UPSTREAM_KEY, 'bundle prompt'])
      expect(c.stdout + c.stderr).not.toContain(secret);
  });

  it('reads the config from GATEWAY_CONFIG_JSON', async () => {
    const c = start({
      OPENAI_BASE_URL: fake.url,
      OPENAI_API_KEY: UPSTREAM_KEY,
      GATEWAY_CONFIG_JSON: JSON.stringify(testConfigDocument({ stage: 'fromjson' })),
    });
    const url = await listeningUrl(c);
    const models = await new OpenAI({ baseURL: url, apiKey: KEYS.app }).models.list();
    expect(models.data.length).toBeGreaterThan(0);
    c.process.kill('SIGTERM');
    expect(await c.exit).toBe(0);
    expect(c.stdout).toContain('"stage":"fromjson"');
  });

  it('exits non-zero naming the field when the config is invalid', async () => {
    const doc = testConfigDocument();
    (doc.clients as Array<Record<string, unknown>>)[1].rpm = -5;
    const c = start({ OPENAI_API_KEY: 'k', GATEWAY_CONFIG: writeConfig(doc) });
    expect(await c.exit).toBe(1);
    expect(c.stderr).toContain('clients[1].rpm');
  });

  it('exits non-zero with a clear message when no config is given', async () => {
    const c = start({ OPENAI_API_KEY: 'k' });
    expect(await c.exit).toBe(1);
    expect(c.stderr).toMatch(/GATEWAY_CONFIG/);
    expect(c.stderr).toContain('gateway.example.json');
  });

  it('exits non-zero when no upstream key source is set', async () => {
    const c = start({ GATEWAY_CONFIG: writeConfig(testConfigDocument()) });
    expect(await c.exit).toBe(1);
    expect(c.stderr).toMatch(/OPENAI_API_KEY/);
  });

  it('on SIGTERM lets 20 in-flight streams finish, refuses new connections, meters them, and exits 0', async () => {
    const STREAMS = 20;
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    fake.enqueue(...Array.from({ length: STREAMS }, () => ({ chunks: 4, holdAfterFirstChunk: held })));
    const c = start({
      OPENAI_BASE_URL: fake.url,
      OPENAI_API_KEY: UPSTREAM_KEY,
      GATEWAY_CONFIG: writeConfig(testConfigDocument()),
      SHUTDOWN_TIMEOUT_MS: '10000',
    });
    const url = await listeningUrl(c);
    const sdk = new OpenAI({ baseURL: url, apiKey: KEYS.app, maxRetries: 0 });
    const streams = await Promise.all(
      Array.from({ length: STREAMS }, (_, i) =>
        sdk.chat.completions.create({
          ...chatBody(`stream ${i}`),
          stream: true,
          stream_options: { include_usage: true },
        }),
      ),
    );
    // Every stream has its first words, and upstream holds the rest, when the signal comes.
    const readers = streams.map((stream) => stream[Symbol.asyncIterator]());
    const texts = await Promise.all(readers.map(firstWords));
    c.process.kill('SIGTERM');
    await eventually(() => c.stdout.includes('"draining"'), 10_000);
    await expect(fetch(url.replace(/\/v1$/, '/healthz'))).rejects.toThrow();
    release();
    const finished = await Promise.all(readers.map(async (reader, i) => texts[i] + (await rest(reader))));
    expect(finished).toEqual(Array.from({ length: STREAMS }, () => fake.behaviour.text));
    expect(await c.exit).toBe(0);
    expect(c.stdout).toContain('"gateway stopped"');
    // Each stream was metered from the usage upstream billed it.
    const metered = c.stdout
      .split('\n')
      .filter((line) => line.includes('"request completed"'))
      .map((line) => (JSON.parse(line) as { completionTokens: number }).completionTokens);
    const billed = fake.billed.map((b) => b.usage.completion_tokens);
    expect(metered).toHaveLength(STREAMS);
    expect(metered.sort((a, b) => a - b)).toEqual(billed.sort((a, b) => a - b));
  });
});
