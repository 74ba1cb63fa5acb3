/**
 * The config swapped while the real bundle runs (service/main/live-config.ts): a file change and
 * SIGHUP reload it, an invalid document is refused and the running one serves on, a client removed
 * from the file shared by two processes on one Redis is refused by both, a rotation overlaps and its
 * old key stops on its own at its `expiresAt`, and a stream in flight finishes through a reload.
 */
import OpenAI from 'openai';
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from '../../support/eventually';
import { FakeOpenAI } from '../../support/fake-openai';
import { chatBody, KEYS, testConfigDocument, UPSTREAM_KEY } from '../../support/gateway-harness';
import { listeningUrl, runGateway, stageMetricSum, type GatewayProcess } from '../../support/gateway-process';
import { RedisServer } from '../../support/redis-server';

jest.setTimeout(90_000);

const sha = (key: string) => createHash('sha256').update(key).digest('hex');
const NEW_KEY = 'sk-gw-test-live-new-key-3333333333333333333333';
const ROTATED_KEY = 'sk-gw-test-live-rotated-key-44444444444444444';
const base = testConfigDocument();
const clients = base.clients as Array<Record<string, unknown>>;
const late = { id: 'late', keySha256: sha(NEW_KEY), rpm: 100, tpm: 100_000, monthlyBudgetUsd: 1 };

let fake: FakeOpenAI;
let redis: RedisServer;
let dir: string;
const children: GatewayProcess[] = [];
beforeAll(async () => {
  fake = new FakeOpenAI();
  [redis] = await Promise.all([RedisServer.start(), fake.start()]);
  dir = mkdtempSync(join(tmpdir(), 'gateway-live-'));
});
afterAll(async () => {
  for (const c of children) if (c.process.exitCode === null) c.process.kill('SIGKILL');
  await Promise.all([redis.stop(), fake.stop()]);
});

/** Writes the document as an editor or a deploy tool does: a new file renamed over the old one. */
function writeDocument(path: string, doc: unknown): void {
  writeFileSync(`${path}.tmp`, JSON.stringify(doc));
  renameSync(`${path}.tmp`, path);
}

async function start(
  path: string,
  env: Record<string, string> = {},
): Promise<{ c: GatewayProcess; url: string }> {
  const c = runGateway({
    OPENAI_BASE_URL: fake.url,
    OPENAI_API_KEY: UPSTREAM_KEY,
    GATEWAY_CONFIG: path,
    METRICS_FLUSH_MS: '100',
    ...env,
  });
  children.push(c);
  return { c, url: await listeningUrl(c) };
}

/** The status of an authenticated call that needs no upstream. */
async function status(url: string, key: string): Promise<number> {
  const res = await fetch(`${url}/models`, { headers: { authorization: `Bearer ${key}` } });
  await res.arrayBuffer();
  return res.status;
}

const loadedVersions = (c: GatewayProcess): string[] =>
  c.stdout
    .split('\n')
    .filter((l) => l.includes('"config loaded"'))
    .map((l) => (JSON.parse(l) as { version: string }).version);

describe('live config in the gateway process', () => {
  it('logs the version it starts with, and applies a changed file: a new client can call', async () => {
    const path = join(dir, 'change.json');
    writeDocument(path, base);
    const { c, url } = await start(path);
    expect(loadedVersions(c)).toEqual([sha(JSON.stringify(base)).slice(0, 12)]);
    expect(await status(url, NEW_KEY)).toBe(401);

    const next = testConfigDocument({ clients: [...clients, late] });
    writeDocument(path, next);
    await eventually(async () => (await status(url, NEW_KEY)) === 200, 10_000, 50);
    expect(loadedVersions(c)).toEqual([base, next].map((d) => sha(JSON.stringify(d)).slice(0, 12)));
    const line = c.stdout.split('\n').filter((l) => l.includes('"config loaded"'))[1];
    expect(JSON.parse(line)).toMatchObject({ added: ['late'], removed: [], changed: [] });
    expect(line).not.toContain(sha(NEW_KEY));
    expect(await status(url, KEYS.app)).toBe(200);
    await eventually(() => stageMetricSum(c.stdout, 'ConfigReloads') === 1, 5_000, 50);
  });

  it('reads the file again on SIGHUP (a change its directory watch cannot see)', async () => {
    // GATEWAY_CONFIG is a symlink in one directory to a file in another: the watch sees neither the
    // write nor the rename, and the periodic check is an hour away.
    const target = mkdtempSync(join(tmpdir(), 'gateway-live-target-'));
    const real = join(target, 'gateway.json');
    writeDocument(real, base);
    const link = join(dir, 'sighup.json');
    symlinkSync(real, link);
    const { c, url } = await start(link, { GATEWAY_CONFIG_CHECK_MS: '3600000' });
    writeDocument(real, testConfigDocument({ clients: [...clients, late] }));
    expect(await status(url, NEW_KEY)).toBe(401);
    c.process.kill('SIGHUP');
    await eventually(async () => (await status(url, NEW_KEY)) === 200, 10_000, 50);
    expect(c.process.exitCode).toBeNull();
  });

  it('holds a SIGHUP sent during start-up and reads the source once it listens, instead of dying', async () => {
    // Start-up waits on a Secrets Manager read (the Redis AUTH token) that this server holds until the
    // SIGHUP is sent: the gateway is then past its first config read and not yet listening.
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let held!: () => void;
    const requestHeld = new Promise<void>((resolve) => (held = resolve));
    const secrets = createServer((_req, res) => {
      held();
      void released.then(() => {
        res.writeHead(400, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify({ __type: 'ResourceNotFoundException', message: 'no such secret' }));
      });
    });
    await new Promise<void>((resolve) => secrets.listen(0, '127.0.0.1', resolve));
    try {
      const target = mkdtempSync(join(tmpdir(), 'gateway-live-target-'));
      const real = join(target, 'gateway.json');
      writeDocument(real, base);
      const link = join(dir, 'early-sighup.json');
      symlinkSync(real, link);
      const c = runGateway({
        OPENAI_BASE_URL: fake.url,
        OPENAI_API_KEY: UPSTREAM_KEY,
        GATEWAY_CONFIG: link,
        GATEWAY_CONFIG_CHECK_MS: '3600000',
        REDIS_AUTH_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:111111111111:secret:redis-auth-AbCdEf',
        AWS_ENDPOINT_URL_SECRETS_MANAGER: `http://127.0.0.1:${(secrets.address() as AddressInfo).port}`,
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
      });
      children.push(c);
      await requestHeld;
      writeDocument(real, testConfigDocument({ clients: [...clients, late] }));
      c.process.kill('SIGHUP');
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(c.process.exitCode).toBeNull();
      release();
      const url = await listeningUrl(c);
      await eventually(async () => (await status(url, NEW_KEY)) === 200, 10_000, 50);
      expect(c.process.exitCode).toBeNull();
      expect(c.stdout).toContain('"reading the config source"');
    } finally {
      release();
      await new Promise((resolve) => secrets.close(resolve));
    }
  });

  it('refuses an invalid document naming the field, and serves on with the running one', async () => {
    const path = join(dir, 'invalid.json');
    writeDocument(path, base);
    const { c, url } = await start(path);
    const running = loadedVersions(c)[0];
    writeDocument(path, testConfigDocument({ clients: [{ ...clients[0], rpm: 0 }, late] }));
    await eventually(() => c.stdout.includes('"config refused'), 10_000, 50);
    const refusal = JSON.parse(c.stdout.split('\n').find((l) => l.includes('"config refused'))!);
    expect(refusal).toMatchObject({ level: 'warn', field: 'clients[0].rpm', running });
    expect(refusal.msg).toContain('gateway config: clients[0].rpm must be an integer from 1 to');
    expect(await status(url, KEYS.app)).toBe(200);
    expect(await status(url, NEW_KEY)).toBe(401);
    await eventually(() => stageMetricSum(c.stdout, 'ConfigReloadsRejected') === 1, 5_000, 50);
    expect(loadedVersions(c)).toEqual([running]);
  });

  it('revokes a client on two processes sharing one Redis and one file', async () => {
    const path = join(dir, 'revoke.json');
    writeDocument(path, base);
    const [a, b] = await Promise.all([
      start(path, { REDIS_URL: redis.url }),
      start(path, { REDIS_URL: redis.url }),
    ]);
    for (const g of [a, b]) expect(await status(g.url, KEYS.other)).toBe(200);

    const written = performance.now();
    writeDocument(path, testConfigDocument({ clients: clients.filter((c) => c.id !== 'other') }));
    const refusedAt: number[] = [];
    await Promise.all(
      [a, b].map((g) =>
        eventually(async () => (await status(g.url, KEYS.other)) === 401, 60_000, 20).then(() =>
          refusedAt.push(performance.now() - written),
        ),
      ),
    );
    console.log(
      `revocation: both gateways refused the client ${Math.round(Math.max(...refusedAt))} ms after the write`,
    );
    const sdk = new OpenAI({ baseURL: a.url, apiKey: KEYS.other, maxRetries: 0 });
    await expect(sdk.chat.completions.create(chatBody('after revoke'))).rejects.toMatchObject({
      status: 401,
      error: { code: 'invalid_api_key' },
    });
    for (const g of [a, b]) expect(await status(g.url, KEYS.app)).toBe(200);
  });

  it('rotates with overlap: both keys work until the old one expires (the instant itself: authenticate.test.ts)', async () => {
    const path = join(dir, 'rotate.json');
    writeDocument(path, base);
    const { c, url } = await start(path);
    const withKeys = (expiresAt: string) =>
      testConfigDocument({
        clients: [
          {
            ...clients[0],
            keySha256: undefined,
            keys: [{ keySha256: sha(ROTATED_KEY) }, { keySha256: sha(KEYS.app), expiresAt }],
          },
          ...clients.slice(1),
        ],
      });
    // Fixed instants, so nothing here depends on the day it runs: an expiry far ahead overlaps, one long
    // past refuses. That a key stops at its instant with no reload is tested on an injected clock.
    writeDocument(path, withKeys('2999-01-01T00:00:00Z'));
    await eventually(async () => (await status(url, ROTATED_KEY)) === 200, 10_000, 50);
    expect(await status(url, KEYS.app)).toBe(200);

    writeDocument(path, withKeys('2001-01-01T00:00:00Z'));
    await eventually(() => loadedVersions(c).length === 3, 10_000, 50);
    expect(await status(url, KEYS.app)).toBe(401);
    expect(await status(url, ROTATED_KEY)).toBe(200);
    expect(loadedVersions(c)).toHaveLength(3);
  });

  it('finishes a stream in flight through a reload that removes its client', async () => {
    const path = join(dir, 'stream.json');
    writeDocument(path, base);
    const { c, url } = await start(path);
    fake.enqueue({ chunks: 8, chunkDelayMs: 250 });
    const sdk = new OpenAI({ baseURL: url, apiKey: KEYS.other, maxRetries: 0 });
    const stream = await sdk.chat.completions.create({ ...chatBody('slow stream'), stream: true });
    let text = '';
    let reloaded = false;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? '';
      if (!reloaded) {
        reloaded = true;
        writeDocument(path, testConfigDocument({ clients: clients.filter((x) => x.id !== 'other') }));
        await eventually(() => loadedVersions(c).length === 2, 10_000, 20);
      }
    }
    expect(text).toBe(fake.behaviour.text);
    expect(await status(url, KEYS.other)).toBe(401);
  });
});
