import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { CanaryMetric } from '../../runtime/metric-names';
import { FakeOpenAI } from '../support/fake-openai';
import { expectStageOnlyDimensions, OutputCapture, secretArn } from './support';

const secretsManager = mockClient(SecretsManagerClient);
const fake = new FakeOpenAI();
const capture = new OutputCapture();
let handler: typeof import('../../lambda/canary').handler;

const ENV = {
  STAGE: 'test',
  AWS_REGION: 'us-east-1',
  OPENAI_API_KEY: 'sk-project-local',
  OPENAI_ORGANIZATION: 'org-test',
  OPENAI_PROJECT: 'proj_test',
  CANARY_MODEL: 'gpt-4o-mini',
  CANARY_TIMEOUT_MS: '5000',
};
const saved = { ...process.env };

beforeAll(async () => {
  await fake.start();
  Object.assign(process.env, ENV, { OPENAI_BASE_URL: fake.url });
  ({ handler } = await import('../../lambda/canary'));
});
afterAll(async () => {
  await fake.stop();
  process.env = saved;
});
beforeEach(() => {
  fake.reset();
  secretsManager.reset();
  Object.assign(process.env, ENV, { OPENAI_BASE_URL: fake.url });
  capture.clear();
  capture.start();
});
afterEach(() => capture.stop());

describe('canary', () => {
  it('streams a tiny completion and publishes success, latency and time to first token', async () => {
    const result = await handler({});
    capture.stop();

    expect(result).toMatchObject({ success: true });
    expect(result.latencyMs).toBeGreaterThanOrEqual(0);
    expect(result.timeToFirstTokenMs).toBeLessThanOrEqual(result.latencyMs!);
    expect(capture.metric(CanaryMetric.success)).toEqual([1]);
    expect(capture.metric(CanaryMetric.latency)).toEqual([result.latencyMs]);
    expect(capture.metric(CanaryMetric.timeToFirstToken)).toEqual([result.timeToFirstTokenMs]);
    expectStageOnlyDimensions(capture, 'test');

    const [request] = fake.requestsTo('/v1/chat/completions');
    expect(request.body).toMatchObject({ model: 'gpt-4o-mini', stream: true, max_completion_tokens: 16 });
    expect(request.headers['openai-organization']).toBe('org-test');
    expect(request.headers['openai-project']).toBe('proj_test');
    expect(request.apiKey).toBe('sk-project-local');
    // Logs carry the stage, never the key or the prompt.
    expect(capture.logs('canary succeeded')[0]).toMatchObject({ stage: 'test', model: 'gpt-4o-mini' });
    expect(capture.text).not.toContain('sk-project-local');
    expect(capture.text).not.toContain('Reply with the single word');
  });

  it.each([
    [429, 'rate_limit'],
    [500, 'server_error'],
    [503, 'server_error'],
    [403, 'auth'],
    [400, 'client_error'],
  ])('publishes a failure for upstream %i as cause %s and returns normally', async (status, cause) => {
    fake.enqueue({ status, retryAfter: '1' });
    const result = await handler({});
    capture.stop();

    expect(result).toEqual({ success: false, cause, status });
    expect(capture.metric(CanaryMetric.success)).toEqual([0]);
    expect(capture.metric(CanaryMetric.latency)).toEqual([]);
    expect(capture.logs('canary failed')[0]).toMatchObject({
      cause,
      status,
      stage: 'test',
      detail: expect.any(String),
    });
    expect(capture.text).not.toContain('is a reserved key');
    // No SDK retries: the canary reports what one call sees.
    expect(fake.requestsTo('/v1/chat/completions')).toHaveLength(1);
  });

  it('reports a timeout when the upstream does not answer within CANARY_TIMEOUT_MS', async () => {
    process.env.CANARY_TIMEOUT_MS = '300';
    fake.enqueue({ hang: true });
    const result = await handler({});
    capture.stop();

    expect(result).toEqual({ success: false, cause: 'timeout' });
    expect(capture.metric(CanaryMetric.success)).toEqual([0]);
    expect(capture.logs('canary failed')[0]).toMatchObject({ cause: 'timeout' });
  });

  it('reports a timeout when the stream stalls after the first chunk', async () => {
    process.env.CANARY_TIMEOUT_MS = '300';
    fake.enqueue({ chunks: 3, chunkDelayMs: 2_000 });
    const result = await handler({});
    capture.stop();

    expect(result).toEqual({ success: false, cause: 'timeout' });
  });

  it('counts a stream cut before its finish_reason as a failure', async () => {
    fake.enqueue({ chunks: 4, cutAfterChunks: 1 });
    const result = await handler({});
    capture.stop();

    expect(result.success).toBe(false);
    expect(result.cause).toBe('connection');
    expect(capture.metric(CanaryMetric.success)).toEqual([0]);
  });

  it('re-reads a rotated key from Secrets Manager after a 401 and succeeds', async () => {
    delete process.env.OPENAI_API_KEY;
    process.env.OPENAI_API_KEY_SECRET_ARN = secretArn('canary-rotated');
    secretsManager
      .on(GetSecretValueCommand, { SecretId: secretArn('canary-rotated') })
      .resolvesOnce({ SecretString: '{"apiKey":"sk-old","serviceAccountId":"svc_old"}' })
      .resolves({ SecretString: '{"apiKey":"sk-new","serviceAccountId":"svc_new"}' });
    fake.rejectKey('sk-old');

    const result = await handler({});
    capture.stop();

    expect(result.success).toBe(true);
    expect(fake.requestsTo('/v1/chat/completions').map((r) => r.apiKey)).toEqual(['sk-old', 'sk-new']);
    expect(secretsManager.commandCalls(GetSecretValueCommand)).toHaveLength(2);
    expect(capture.metric(CanaryMetric.success)).toEqual([1]);
    expect(capture.text).not.toContain('sk-new');
  });

  it('reports auth when the freshly read key is rejected too', async () => {
    delete process.env.OPENAI_API_KEY;
    process.env.OPENAI_API_KEY_SECRET_ARN = secretArn('canary-revoked');
    secretsManager
      .on(GetSecretValueCommand, { SecretId: secretArn('canary-revoked') })
      .resolves({ SecretString: '{"apiKey":"sk-revoked"}' });
    fake.rejectKey('sk-revoked');

    const result = await handler({});
    capture.stop();

    expect(result).toEqual({ success: false, cause: 'auth', status: 401 });
    expect(fake.requestsTo('/v1/chat/completions')).toHaveLength(2);
    // OpenAI's 401 message quotes parts of the refused key; the log keeps the message but not those.
    const [line] = capture.logs('canary failed');
    expect(line.detail).toContain('Incorrect API key provided: sk-[redacted]');
    expect(capture.text).not.toMatch(/sk-rev|voked/);
  });

  it('reports an unreadable secret as cause secret without calling the upstream', async () => {
    delete process.env.OPENAI_API_KEY;
    process.env.OPENAI_API_KEY_SECRET_ARN = secretArn('canary-missing');
    secretsManager.on(GetSecretValueCommand).rejects(new Error('AccessDeniedException'));

    const result = await handler({});
    capture.stop();

    expect(result).toEqual({ success: false, cause: 'secret' });
    expect(fake.requests).toHaveLength(0);
    expect(capture.metric(CanaryMetric.success)).toEqual([0]);
  });

  it('reports a missing CANARY_MODEL as cause config', async () => {
    delete process.env.CANARY_MODEL;
    const result = await handler({});
    capture.stop();

    expect(result).toEqual({ success: false, cause: 'config' });
    expect(capture.logs('canary failed')[0].message).toBe('canary failed');
    expect(fake.requests).toHaveLength(0);
  });
});
