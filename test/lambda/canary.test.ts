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

const CHAT = '/v1/chat/completions';
const RESPONSES = '/v1/responses';

describe('canary', () => {
  it('streams a tiny completion and a tiny Responses call, and publishes success, latencies and times to first token', async () => {
    const result = await handler({});
    capture.stop();

    expect(result).toMatchObject({ success: true });
    expect(result.latencyMs).toBeGreaterThanOrEqual(0);
    expect(result.timeToFirstTokenMs).toBeLessThanOrEqual(result.latencyMs!);
    expect(result.responsesTimeToFirstTokenMs).toBeGreaterThanOrEqual(0);
    expect(result.responsesTimeToFirstTokenMs).toBeLessThanOrEqual(result.responsesLatencyMs!);
    expect(capture.metric(CanaryMetric.success)).toEqual([1]);
    expect(capture.metric(CanaryMetric.latency)).toEqual([result.latencyMs]);
    expect(capture.metric(CanaryMetric.timeToFirstToken)).toEqual([result.timeToFirstTokenMs]);
    expect(capture.metric(CanaryMetric.responsesLatency)).toEqual([result.responsesLatencyMs]);
    expect(capture.metric(CanaryMetric.responsesTimeToFirstToken)).toEqual([
      result.responsesTimeToFirstTokenMs,
    ]);
    expectStageOnlyDimensions(capture, 'test');

    const [request] = fake.requestsTo(CHAT);
    expect(request.body).toMatchObject({ model: 'gpt-4o-mini', stream: true, max_completion_tokens: 16 });
    expect(request.headers['openai-organization']).toBe('org-test');
    expect(request.headers['openai-project']).toBe('proj_test');
    expect(request.apiKey).toBe('sk-project-local');
    const [responses] = fake.requestsTo(RESPONSES);
    // Unstored: the canary leaves nothing in the project, and sends only what the Responses API takes.
    expect(responses.body).toMatchObject({
      model: 'gpt-4o-mini',
      stream: true,
      store: false,
      max_output_tokens: 16,
    });
    expect(responses.apiKey).toBe('sk-project-local');
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
    fake.enqueue({ path: CHAT, status, retryAfter: '1' });
    const result = await handler({});
    capture.stop();

    expect(result).toEqual({ success: false, cause, status, failedProbe: 'chat' });
    expect(capture.metric(CanaryMetric.success)).toEqual([0]);
    expect(capture.metric(CanaryMetric.latency)).toEqual([]);
    // The other probe still reports its timing.
    expect(capture.metric(CanaryMetric.responsesLatency)).toHaveLength(1);
    expect(capture.logs('canary failed')[0]).toMatchObject({
      cause,
      status,
      probe: 'chat',
      stage: 'test',
      detail: expect.any(String),
    });
    expect(capture.text).not.toContain('is a reserved key');
    // No SDK retries: the canary reports what one call sees.
    expect(fake.requestsTo(CHAT)).toHaveLength(1);
  });

  it.each([
    [429, 'rate_limit'],
    [500, 'server_error'],
    [400, 'client_error'],
  ])('fails when only the Responses call gets upstream %i (cause %s)', async (status, cause) => {
    fake.enqueue({ path: RESPONSES, status, retryAfter: '1' });
    const result = await handler({});
    capture.stop();

    expect(result).toEqual({ success: false, cause, status, failedProbe: 'responses' });
    expect(capture.metric(CanaryMetric.success)).toEqual([0]);
    expect(capture.metric(CanaryMetric.responsesLatency)).toEqual([]);
    expect(capture.metric(CanaryMetric.responsesTimeToFirstToken)).toEqual([]);
    expect(capture.metric(CanaryMetric.latency)).toHaveLength(1);
    expect(capture.logs('canary failed')[0]).toMatchObject({ cause, status, probe: 'responses' });
    expect(fake.requestsTo(RESPONSES)).toHaveLength(1);
  });

  it('fails with bad_response when the Responses stream reports response.failed', async () => {
    fake.enqueue({ path: RESPONSES, failed: true });
    const result = await handler({});
    capture.stop();

    expect(result).toEqual({ success: false, cause: 'bad_response', failedProbe: 'responses' });
    expect(capture.metric(CanaryMetric.success)).toEqual([0]);
  });

  it('publishes no Responses time to first token when the model sent no output text', async () => {
    // A reasoning model can spend the whole small cap thinking: incomplete, but the API works.
    fake.enqueue({ path: RESPONSES, text: '' });
    const result = await handler({});
    capture.stop();

    expect(result.success).toBe(true);
    expect(result).not.toHaveProperty('responsesTimeToFirstTokenMs');
    expect(capture.metric(CanaryMetric.responsesLatency)).toEqual([result.responsesLatencyMs]);
    expect(capture.metric(CanaryMetric.responsesTimeToFirstToken)).toEqual([]);
  });

  it('reports a timeout when the upstream does not answer within CANARY_TIMEOUT_MS', async () => {
    process.env.CANARY_TIMEOUT_MS = '300';
    fake.enqueue({ path: CHAT, hang: true });
    const result = await handler({});
    capture.stop();

    expect(result).toEqual({ success: false, cause: 'timeout', failedProbe: 'chat' });
    expect(capture.metric(CanaryMetric.success)).toEqual([0]);
    expect(capture.logs('canary failed')[0]).toMatchObject({ cause: 'timeout' });
  });

  it('reports a timeout when the stream stalls after the first chunk', async () => {
    process.env.CANARY_TIMEOUT_MS = '300';
    fake.enqueue({ path: CHAT, chunks: 3, chunkDelayMs: 2_000 });
    const result = await handler({});
    capture.stop();

    expect(result).toEqual({ success: false, cause: 'timeout', failedProbe: 'chat' });
  });

  it('reports a timeout when the Responses stream stalls after its first event', async () => {
    process.env.CANARY_TIMEOUT_MS = '300';
    fake.enqueue({ path: RESPONSES, chunks: 3, chunkDelayMs: 2_000 });
    const result = await handler({});
    capture.stop();

    expect(result).toEqual({ success: false, cause: 'timeout', failedProbe: 'responses' });
  });

  it('counts a stream cut before its finish_reason as a failure', async () => {
    fake.enqueue({ path: CHAT, chunks: 4, cutAfterChunks: 1 });
    const result = await handler({});
    capture.stop();

    expect(result.success).toBe(false);
    expect(result.cause).toBe('connection');
    expect(result.failedProbe).toBe('chat');
    expect(capture.metric(CanaryMetric.success)).toEqual([0]);
  });

  it('counts a Responses stream cut before its terminal event as a failure', async () => {
    fake.enqueue({ path: RESPONSES, chunks: 4, cutAfterChunks: 1 });
    const result = await handler({});
    capture.stop();

    expect(result.success).toBe(false);
    expect(result.failedProbe).toBe('responses');
    expect(['connection', 'bad_response']).toContain(result.cause);
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
    expect(fake.requestsTo(CHAT).map((r) => r.apiKey)).toEqual(['sk-old', 'sk-new']);
    expect(fake.requestsTo(RESPONSES).map((r) => r.apiKey)).toEqual(['sk-old', 'sk-new']);
    // One read for both probes, and one fresh read after the 401s.
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

    expect(result).toEqual({ success: false, cause: 'auth', status: 401, failedProbe: 'chat' });
    expect(fake.requestsTo(CHAT)).toHaveLength(2);
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
