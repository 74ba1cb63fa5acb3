import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AppConfigClient,
  CreateHostedConfigurationVersionCommand,
  ListApplicationsCommand,
  ListConfigurationProfilesCommand,
  ListEnvironmentsCommand,
  StartDeploymentCommand,
} from '@aws-sdk/client-appconfig';
import { mockClient } from 'aws-sdk-client-mock';
import { stagingConfig, validateStageConfig } from '../../lib/config';
import type { ClientDocument } from '../../lib/config/types';
import { gatewayConfigDocument, parseGatewayConfig } from '../../runtime/gateway-config';
import { sha256Hex } from '../../service/pipeline/authenticate';
import { runClients } from '../../scripts/clients/cli';
import { CLIENTS_DIRECTORY } from '../../scripts/clients/stage-documents';
import { REPO_ROOT } from '../lib/synth';

const NOW = new Date('2026-06-01T12:00:00Z');
const appConfig = mockClient(AppConfigClient);

let dir: string;
let path: string;
let mints: number;
let out: string;
let err: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'clients-cli-'));
  for (const stage of ['staging', 'production'])
    copyFileSync(join(CLIENTS_DIRECTORY, `${stage}.json`), join(dir, `${stage}.json`));
  path = join(dir, 'staging.json');
  mints = 0;
  out = '';
  err = '';
  appConfig.reset();
  appConfig.on(ListApplicationsCommand).resolves({
    Items: [
      { Id: 'other01', Name: 'openai-blueprint-Production' },
      { Id: 'app1234', Name: 'openai-blueprint-Staging' },
    ],
  });
  appConfig.on(ListEnvironmentsCommand).resolves({ Items: [{ Id: 'env1234', Name: 'Staging' }] });
  appConfig.on(ListConfigurationProfilesCommand).resolves({ Items: [{ Id: 'prof123', Name: 'gateway' }] });
  appConfig.on(CreateHostedConfigurationVersionCommand).resolves({ VersionNumber: 7 });
  appConfig.on(StartDeploymentCommand).resolves({ DeploymentNumber: 3 });
});

afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Keys the test's mint hands out, one per call: distinct and known. */
const mintedKey = (n: number): string => `sk-gw-test-key-${n}`;

const run = (...argv: string[]): Promise<number> =>
  runClients(argv, {
    out: (text) => (out += text),
    err: (text) => (err += text),
    clientsDirectory: dir,
    appConfig: () => new AppConfigClient({ region: 'us-east-1' }),
    now: () => NOW,
    mintKey: () => {
      const key = mintedKey(++mints);
      return { key, keySha256: sha256Hex(key) };
    },
    operator: 'alice',
  });

const stored = (): ClientDocument[] => JSON.parse(readFileSync(path, 'utf8')) as ClientDocument[];
const client = (id: string): ClientDocument | undefined => stored().find((c) => c.id === id);
const EXAMPLE_HASH = '3bcaafb7fdb17826ca69f37217b4e77ead5f5bc5739d7803a209ae457451e951';

describe('npm run clients', () => {
  it('list shows ids, limits and key prefixes, never a whole hash', async () => {
    expect(await run('list', '--stage', 'staging')).toBe(0);
    expect(out).toContain('example-app  rpm 60  tpm 60000  budget 20 USD  1 key(s): 3bcaafb7');
    expect(out).not.toContain(EXAMPLE_HASH);
  });

  it('add mints a key, prints it once and stores only its SHA-256', async () => {
    expect(
      await run('add', 'team-a', '--stage', 'Staging', '--rpm', '30', '--tpm', '50000', '--budget', '5'),
    ).toBe(0);
    const key = /^ {2}(sk-gw-\S+)$/m.exec(out)?.[1];
    expect(key).toBe(mintedKey(1));
    expect(out.split(mintedKey(1))).toHaveLength(2);
    expect(out).toContain('shown this once');
    expect(client('team-a')).toEqual({
      id: 'team-a',
      keySha256: sha256Hex(mintedKey(1)),
      rpm: 30,
      tpm: 50000,
      monthlyBudgetUsd: 5,
    });
    expect(readFileSync(path, 'utf8')).not.toContain(mintedKey(1));
    expect(out).toContain(
      `+ team-a: key ${sha256Hex(mintedKey(1)).slice(0, 8)}; rpm 30, tpm 50000, monthlyBudgetUsd 5`,
    );
    expect(out).not.toContain(sha256Hex(mintedKey(1)));
  });

  it('writes the document as prettier formats it', async () => {
    await run('set', 'example-app', '--stage', 'staging', '--models', 'gpt-4o-mini,default');
    expect(readFileSync(path, 'utf8')).toContain('    "models": ["gpt-4o-mini", "default"]\n');
    const prettier = spawnSync(
      join(REPO_ROOT, 'node_modules', '.bin', 'prettier'),
      ['--config', join(REPO_ROOT, '.prettierrc.json'), '--check', path],
      { encoding: 'utf8' },
    );
    expect(prettier.stderr).toBe('');
    expect(prettier.status).toBe(0);
  });

  it('rotate keeps the old key until the overlap ends and adds a new one', async () => {
    expect(await run('rotate', 'example-app', '--stage', 'staging', '--overlap-days', '3')).toBe(0);
    expect(client('example-app')).toEqual({
      id: 'example-app',
      keys: [
        { keySha256: EXAMPLE_HASH, expiresAt: '2026-06-04T12:00:00Z' },
        { keySha256: sha256Hex(mintedKey(1)) },
      ],
      rpm: 60,
      tpm: 60000,
      monthlyBudgetUsd: 20,
    });
    expect(out).toContain('~ example-app: key 3bcaafb7 expires 2026-06-04T12:00:00Z (was never)');
    expect(out).toContain(`\n  ${mintedKey(1)}\n`);
  });

  it('rotate defaults to a 7-day overlap, keeps an earlier expiry and drops expired keys', async () => {
    await run('rotate', 'example-app', '--stage', 'staging');
    await run('rotate', 'example-app', '--stage', 'staging', '--overlap-days', '30');
    expect(client('example-app')?.keys).toEqual([
      { keySha256: EXAMPLE_HASH, expiresAt: '2026-06-08T12:00:00Z' },
      { keySha256: sha256Hex(mintedKey(1)), expiresAt: '2026-07-01T12:00:00Z' },
      { keySha256: sha256Hex(mintedKey(2)) },
    ]);
  });

  it('rotate --overlap-days 0 ends the old keys now and drops those already expired', async () => {
    const expired = { keySha256: 'e'.repeat(64), expiresAt: '2026-05-01T00:00:00Z' };
    writeFileSync(path, JSON.stringify([{ ...stored()[0], keys: [expired] }]));
    expect(await run('rotate', 'example-app', '--stage', 'staging', '--overlap-days', '0')).toBe(0);
    expect(client('example-app')?.keys).toEqual([
      { keySha256: EXAMPLE_HASH, expiresAt: '2026-06-01T12:00:00Z' },
      { keySha256: sha256Hex(mintedKey(1)) },
    ]);
    expect(client('example-app')).not.toHaveProperty('keySha256');
    expect(out).toContain('~ example-app: key eeeeeeee until 2026-05-01T00:00:00Z removed');
  });

  it('revoke removes the client', async () => {
    await run('add', 'team-a', '--stage', 'staging');
    expect(await run('revoke', 'team-a', '--stage', 'staging')).toBe(0);
    expect(stored().map((c) => c.id)).toEqual(['example-app']);
    expect(out).toContain('- team-a: removed with its 1 key(s)');
  });

  it('revoke --key removes one key of the client', async () => {
    await run('rotate', 'example-app', '--stage', 'staging');
    expect(await run('revoke', 'example-app', '--stage', 'staging', '--key', '3bcaafb7')).toBe(0);
    expect(client('example-app')?.keySha256).toBe(sha256Hex(mintedKey(1)));
    expect(client('example-app')?.keys).toBeUndefined();
    expect(out).toContain('~ example-app: key 3bcaafb7 until 2026-06-08T12:00:00Z removed');
  });

  it("revoke --key refuses to remove a client's last key", async () => {
    const before = readFileSync(path);
    expect(await run('revoke', 'example-app', '--stage', 'staging', '--key', '3bcaafb7')).toBe(1);
    expect(err).toContain('"example-app" has no other key');
    expect(readFileSync(path).equals(before)).toBe(true);
  });

  it('set changes limits and removes a field given "default"', async () => {
    await run('set', 'example-app', '--stage', 'staging', '--rpm', '90', '--max-concurrent-calls', '4');
    expect(client('example-app')).toMatchObject({ rpm: 90, maxConcurrentCalls: 4 });
    expect(out).toContain('~ example-app: rpm 60 -> 90');
    expect(out).toContain('~ example-app: maxConcurrentCalls (default) -> 4');
    await run('set', 'example-app', '--stage', 'staging', '--max-concurrent-calls', 'default');
    expect(client('example-app')).not.toHaveProperty('maxConcurrentCalls');
  });

  it.each([
    [['set', 'example-app', '--rpm=-5'], 'gateway config: clients[0].rpm', '(client "example-app")'],
    [['add', 'example-app'], 'client "example-app" exists already', ''],
    [
      ['set', 'example-app', '--models', 'gpt-9'],
      'clients[0].models[0] names "gpt-9"',
      '(client "example-app")',
    ],
    [['set', 'example-app', '--tpm', '1000000'], 'gateway.clients[0].tpm (1000000) must not exceed', ''],
    [['set', 'nobody', '--rpm', '5'], 'no client "nobody"', ''],
  ])(
    'refuses %j with the field at fault and leaves the file byte-identical',
    async (argv, message, clientNote) => {
      const before = readFileSync(path);
      expect(await run(...argv, '--stage', 'staging', '--publish')).toBe(1);
      expect(err).toContain(`refused: `);
      expect(err).toContain(message);
      expect(err).toContain(clientNote);
      expect(readFileSync(path).equals(before)).toBe(true);
      expect(appConfig.calls()).toHaveLength(0);
    },
  );

  it('refuses a duplicate id in the document itself, naming it', async () => {
    const doubled = [...stored(), { ...stored()[0], keySha256: 'a'.repeat(64) }];
    writeFileSync(path, JSON.stringify(doubled));
    const before = readFileSync(path);
    expect(await run('set', 'example-app', '--stage', 'staging', '--rpm', '61')).toBe(1);
    expect(err).toContain('clients[1].id repeats the id "example-app"');
    expect(readFileSync(path).equals(before)).toBe(true);
  });

  it('--dry-run prints the change and what it would publish, and writes and sends nothing', async () => {
    const before = readFileSync(path);
    expect(await run('add', 'team-a', '--stage', 'staging', '--dry-run', '--publish')).toBe(0);
    expect(out).toContain('+ team-a: key');
    expect(out).toContain('dry run: would write');
    expect(out).toContain('dry run: would publish version cli-20260601T120000Z-');
    expect(out).toContain(
      'application openai-blueprint-Staging, environment Staging, profile gateway, strategy AppConfig.AllAtOnce',
    );
    expect(out).not.toContain(mintedKey(1));
    expect(readFileSync(path).equals(before)).toBe(true);
    expect(appConfig.calls()).toHaveLength(0);
  });

  it('--publish sends the validated gateway document and deploys it all at once', async () => {
    expect(await run('rotate', 'example-app', '--stage', 'staging', '--publish')).toBe(0);
    const expected = validateStageConfig({
      ...stagingConfig,
      gateway: { ...stagingConfig.gateway, clients: stored() },
    });
    const [version] = appConfig.commandCalls(CreateHostedConfigurationVersionCommand);
    const input = version.args[0].input;
    expect(input).toMatchObject({
      ApplicationId: 'app1234',
      ConfigurationProfileId: 'prof123',
      ContentType: 'application/json',
    });
    const sent: unknown = JSON.parse(new TextDecoder().decode(input.Content as Uint8Array));
    expect(sent).toEqual(JSON.parse(JSON.stringify(gatewayConfigDocument(expected))));
    expect(parseGatewayConfig(sent)).toEqual(expected);
    expect(input.VersionLabel).toBe(`cli-20260601T120000Z-${sha256Hex(JSON.stringify(sent)).slice(0, 12)}`);
    expect(input.Description).toBe('npm run clients -- rotate example-app by alice');
    const [deployment] = appConfig.commandCalls(StartDeploymentCommand);
    expect(deployment.args[0].input).toEqual({
      ApplicationId: 'app1234',
      EnvironmentId: 'env1234',
      ConfigurationProfileId: 'prof123',
      ConfigurationVersion: '7',
      DeploymentStrategyId: 'AppConfig.AllAtOnce',
      Description: 'npm run clients -- rotate example-app by alice',
    });
    expect(out).toContain('published version 7');
  });

  it('--publish takes the AppConfig names from flags', async () => {
    appConfig.on(ListEnvironmentsCommand).resolves({ Items: [{ Id: 'env9999', Name: 'blue' }] });
    await run(
      'set',
      'example-app',
      '--stage',
      'staging',
      '--rpm',
      '61',
      '--publish',
      '--application',
      'app1234',
      '--environment',
      'blue',
      '--strategy',
      'AppConfig.Linear50PercentEvery30Seconds',
    );
    expect(appConfig.commandCalls(StartDeploymentCommand)[0].args[0].input).toMatchObject({
      ApplicationId: 'app1234',
      EnvironmentId: 'env9999',
      DeploymentStrategyId: 'AppConfig.Linear50PercentEvery30Seconds',
    });
  });

  it('an AWS failure exits non-zero, names the step, and says the file edit is made', async () => {
    appConfig
      .on(StartDeploymentCommand)
      .rejects(Object.assign(new Error('Deployment 2 is in progress'), { name: 'ConflictException' }));
    await run('add', 'team-b', '--stage', 'staging');
    expect(await run('revoke', 'team-b', '--stage', 'staging', '--publish')).toBe(1);
    expect(err).toContain('AppConfig StartDeployment failed: ConflictException: Deployment 2 is in progress');
    expect(err).toContain('the edit IS made:');
    expect(err).toContain('npm run clients -- publish --stage Staging');
    expect(client('team-b')).toBeUndefined();
  });

  it('publish deploys the document as it is, after a failed publish', async () => {
    const before = readFileSync(path);
    expect(await run('publish', '--stage', 'staging')).toBe(0);
    expect(readFileSync(path).equals(before)).toBe(true);
    expect(appConfig.commandCalls(StartDeploymentCommand)).toHaveLength(1);
  });
});
