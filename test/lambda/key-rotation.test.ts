import {
  DescribeSecretCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import type { SecretsManagerRotationEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { rotateStep } from '../../lambda/key-rotation/rotation';
import { serviceAccountName } from '../../lambda/key-rotation/service-accounts';
import { RotationMetric } from '../../runtime/metric-names';
import { createHandlerLogger, createHandlerMetrics } from '../../runtime/powertools';
import { FakeOpenAI } from '../support/fake-openai';
import { FakeOpenAIAdmin, type FakeServiceAccount } from '../support/fake-openai-admin';
import { expectStageOnlyDimensions, InMemorySecret, OutputCapture, secretArn } from './support';

const secretsManager = mockClient(SecretsManagerClient);
const fake = new FakeOpenAI();
const admin = new FakeOpenAIAdmin(fake);
const capture = new OutputCapture();
let handler: typeof import('../../lambda/key-rotation').handler;

const PROJECT = 'proj_stage';
const ARN = secretArn('project-key');
const TOKEN = '3f1c9f3e-0a52-4d3b-9d6a-2f3c1b8e7a10';
const ENV = {
  STAGE: 'test',
  AWS_REGION: 'us-east-1',
  OPENAI_ADMIN_KEY: admin.adminKey,
  OPENAI_ORGANIZATION: 'org-test',
  OPENAI_PROJECT: PROJECT,
};
const saved = { ...process.env };
let secret: InMemorySecret;
let oldAccount: FakeServiceAccount;

const event = (Step: SecretsManagerRotationEvent['Step'], token = TOKEN): SecretsManagerRotationEvent => ({
  Step,
  SecretId: ARN,
  ClientRequestToken: token,
});
const rotate = async (...steps: Array<SecretsManagerRotationEvent['Step']>) => {
  for (const step of steps) await handler(event(step));
};
const accountsNamed = (name: string) => [...admin.serviceAccounts.values()].filter((a) => a.name === name);

beforeAll(async () => {
  await fake.start();
  Object.assign(process.env, ENV, { OPENAI_BASE_URL: fake.url });
  ({ handler } = await import('../../lambda/key-rotation'));
});
afterAll(async () => {
  await fake.stop();
  process.env = saved;
});
beforeEach(() => {
  fake.reset();
  admin.reset();
  secretsManager.reset();
  Object.assign(process.env, ENV, { OPENAI_BASE_URL: fake.url });
  oldAccount = admin.addServiceAccount(PROJECT, 'gateway-test-initial');
  secret = new InMemorySecret(ARN)
    .setCurrent('v-initial', JSON.stringify({ apiKey: oldAccount.apiKey, serviceAccountId: oldAccount.id }))
    .startRotation(TOKEN);
  secret.install(secretsManager);
  capture.clear();
  capture.start();
});
afterEach(() => capture.stop());

describe('key rotation', () => {
  it('creates, tests and promotes a new service account key, then deletes the previous account', async () => {
    await rotate('createSecret', 'setSecret', 'testSecret', 'finishSecret');
    capture.stop();

    const current = secret.valueOf('AWSCURRENT')!;
    const [created] = accountsNamed(serviceAccountName('test', TOKEN));
    expect(secret.versionWith('AWSCURRENT')).toBe(TOKEN);
    expect(secret.versionWith('AWSPREVIOUS')).toBe('v-initial');
    expect(current).toEqual({ apiKey: created.apiKey, serviceAccountId: created.id });
    expect(admin.serviceAccounts.has(oldAccount.id)).toBe(false);

    // testSecret authenticated with the new key, in the stage's project.
    const [test] = fake.requestsTo('/v1/models');
    expect(test.apiKey).toBe(created.apiKey);
    expect(test.headers['openai-project']).toBe(PROJECT);
    // The previous key is revoked with its account.
    const res = await fetch(`${fake.url}/models`, {
      headers: { authorization: `Bearer ${oldAccount.apiKey}` },
    });
    expect(res.status).toBe(401);

    expect(capture.metric(RotationMetric.success)).toEqual([1]);
    expect(capture.metric(RotationMetric.failure)).toEqual([]);
    expectStageOnlyDimensions(capture, 'test');
    expect(capture.text).not.toContain(created.apiKey);
    expect(capture.text).not.toContain(oldAccount.apiKey);
  });

  it('runs each step again without doing its work twice', async () => {
    await rotate('createSecret', 'createSecret', 'setSecret', 'setSecret', 'testSecret', 'testSecret');
    await rotate('finishSecret', 'finishSecret');
    capture.stop();

    expect(accountsNamed(serviceAccountName('test', TOKEN))).toHaveLength(1);
    expect(fake.requests.filter((r) => r.method === 'POST')).toHaveLength(1);
    // Steps with nothing to count write no EMF document and no Powertools warning about it.
    expect(capture.text).not.toContain('No application metrics to publish');
    expect(secretsManager.commandCalls(PutSecretValueCommand)).toHaveLength(1);
    expect(secretsManager.commandCalls(UpdateSecretVersionStageCommand)).toHaveLength(1);
    // The repeated finishSecret asks again for the old account and accepts OpenAI's 404 as done.
    const deletes = fake.requests.filter((r) => r.method === 'DELETE').map((r) => r.path);
    expect(deletes).toEqual([deletes[0], deletes[0]]);
    expect(deletes[0]).toContain(oldAccount.id);
    expect(capture.logs('finishSecret: previous service account deleted').map((l) => l.alreadyGone)).toEqual([
      false,
      true,
    ]);
    expect(secret.versionWith('AWSCURRENT')).toBe(TOKEN);
  });

  it('replaces an account an earlier createSecret created but could not store', async () => {
    const orphan = admin.addServiceAccount(PROJECT, serviceAccountName('test', TOKEN));
    await rotate('createSecret');
    capture.stop();

    const accounts = accountsNamed(serviceAccountName('test', TOKEN));
    expect(accounts).toHaveLength(1);
    expect(accounts[0].id).not.toBe(orphan.id);
    expect(secret.valueOf('AWSPENDING')).toEqual({
      apiKey: accounts[0].apiKey,
      serviceAccountId: accounts[0].id,
    });
  });

  it('removes the new account again when the pending key cannot be stored', async () => {
    secretsManager.on(PutSecretValueCommand).rejectsOnce(new Error('ThrottlingException'));
    await expect(rotate('createSecret')).rejects.toThrow('ThrottlingException');
    capture.stop();

    expect(accountsNamed(serviceAccountName('test', TOKEN))).toHaveLength(0);
    expect(capture.metric(RotationMetric.failure)).toEqual([1]);
  });

  it('fails testSecret on a revoked pending key and leaves the current key in place', async () => {
    await rotate('createSecret', 'setSecret');
    const pending = secret.valueOf('AWSPENDING')!;
    fake.rejectKey(pending.apiKey);
    const logger = createHandlerLogger('test');
    const metrics = createHandlerMetrics('test');

    await expect(
      rotateStep(event('testSecret'), {
        logger,
        metrics,
        secrets: async () => new SecretsManagerClient({}),
        stage: 'test',
        testAttempts: 3,
        testRetryDelayMs: 1,
      }),
    ).rejects.toMatchObject({ status: 401 });
    metrics.publishStoredMetrics();
    capture.stop();

    expect(fake.requestsTo('/v1/models')).toHaveLength(3);
    expect(secret.versionWith('AWSCURRENT')).toBe('v-initial');
    expect(admin.serviceAccounts.has(oldAccount.id)).toBe(true);
    expect(capture.metric(RotationMetric.failure)).toEqual([1]);
    expect(capture.logs('key rotation step failed')[0]).toMatchObject({
      cause: 'auth',
      status: 401,
      rotationStep: 'testSecret',
    });
    expect(capture.text).not.toContain(pending.apiKey);
  });

  it('passes testSecret when a new key starts working after a moment', async () => {
    await rotate('createSecret');
    fake.enqueue({ path: '/v1/models', status: 401 });
    const logger = createHandlerLogger('test');
    const metrics = createHandlerMetrics('test');
    await rotateStep(event('testSecret'), {
      logger,
      metrics,
      secrets: async () => new SecretsManagerClient({}),
      stage: 'test',
      testRetryDelayMs: 1,
    });
    capture.stop();

    expect(fake.requestsTo('/v1/models')).toHaveLength(2);
  });

  it('deletes the previous account on a retried finishSecret when the first attempt failed after promotion', async () => {
    await rotate('createSecret', 'setSecret', 'testSecret');
    const deletePath = `/v1/organization/projects/${PROJECT}/service_accounts/${oldAccount.id}`;
    fake.enqueue(
      ...Array.from({ length: 3 }, () => ({
        path: deletePath,
        status: 500,
        headers: { 'retry-after-ms': '1' },
      })),
    );

    await expect(rotate('finishSecret')).rejects.toMatchObject({ status: 500 });
    expect(secret.versionWith('AWSCURRENT')).toBe(TOKEN);
    expect(admin.serviceAccounts.has(oldAccount.id)).toBe(true);

    await rotate('finishSecret');
    capture.stop();
    expect(admin.serviceAccounts.has(oldAccount.id)).toBe(false);
    expect(secretsManager.commandCalls(UpdateSecretVersionStageCommand)).toHaveLength(1);
    expect(capture.metric(RotationMetric.failure)).toEqual([1]);
    expect(capture.metric(RotationMetric.success)).toEqual([1]);
  });

  it('promotes but deletes nothing when the previous key names no service account', async () => {
    secret.setCurrent('v-initial', 'sk-plain-initial-key');
    await rotate('createSecret', 'setSecret', 'testSecret', 'finishSecret');
    capture.stop();

    expect(secret.versionWith('AWSCURRENT')).toBe(TOKEN);
    expect(fake.requests.filter((r) => r.method === 'DELETE')).toHaveLength(0);
    expect(capture.logs().some((l) => /revoke it by hand/.test(l.message))).toBe(true);
  });

  it("creates a new stage's first key when the secret has no value yet", async () => {
    const empty = new InMemorySecret(secretArn('empty-key')).startRotation(TOKEN);
    empty.install(secretsManager);
    for (const Step of ['createSecret', 'setSecret', 'testSecret', 'finishSecret'] as const) {
      await handler({ Step, SecretId: empty.arn, ClientRequestToken: TOKEN });
    }
    capture.stop();

    const [created] = accountsNamed(serviceAccountName('test', TOKEN));
    expect(empty.versionWith('AWSCURRENT')).toBe(TOKEN);
    expect(empty.valueOf('AWSCURRENT')).toEqual({ apiKey: created.apiKey, serviceAccountId: created.id });
    expect(fake.requests.filter((r) => r.method === 'DELETE')).toHaveLength(0);
    expect(capture.metric(RotationMetric.success)).toEqual([1]);
  });

  it('refuses a token the secret does not know, before calling OpenAI', async () => {
    await expect(handler(event('createSecret', 'unknown-token'))).rejects.toThrow(
      'secret has no version unknown-token',
    );
    capture.stop();
    expect(fake.requests).toHaveLength(0);
    expect(capture.metric(RotationMetric.failure)).toEqual([1]);
  });

  it('refuses to rotate a secret whose rotation is disabled', async () => {
    secret.rotationEnabled = false;
    await expect(rotate('createSecret')).rejects.toThrow('rotation is not enabled');
    capture.stop();
    expect(secretsManager.commandCalls(DescribeSecretCommand)).toHaveLength(1);
  });

  it('fails createSecret with an invalid admin key and stores nothing', async () => {
    process.env.OPENAI_ADMIN_KEY = 'sk-not-admin';
    await expect(rotate('createSecret')).rejects.toMatchObject({ status: 401 });
    capture.stop();

    expect(secret.valueOf('AWSPENDING')).toBeUndefined();
    expect(secret.versionWith('AWSCURRENT')).toBe('v-initial');
    expect(capture.logs('key rotation step failed')[0]).toMatchObject({
      cause: 'auth',
      rotationStep: 'createSecret',
    });
  });
});
