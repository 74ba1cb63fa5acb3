import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  ScanCommand,
  UpdateItemCommand,
  type AttributeValue,
} from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { validateBatchInput } from '../../lambda/batch/validate';
import { parseGatewayConfig } from '../../runtime/gateway-config';
import { BatchMetric } from '../../runtime/metric-names';
import { FakeOpenAI } from '../support/fake-openai';
import { FakeOpenAIAdmin } from '../support/fake-openai-admin';
import { expectStageOnlyDimensions, OutputCapture } from './support';

const s3 = mockClient(S3Client);
const dynamodb = mockClient(DynamoDBClient);
const fake = new FakeOpenAI();
const admin = new FakeOpenAIAdmin(fake);
const capture = new OutputCapture();
let handler: ReturnType<typeof import('../../lambda/batch').createHandler>;
/** The handler's clock: mid-month unless a test moves it. */
const MID_MONTH = Date.UTC(2026, 5, 17, 10, 30, 0);
let now = MID_MONTH;

const BUCKET = 'batch-bucket';
const CONFIG = {
  stage: 'test',
  clients: [{ id: 'app', keySha256: 'a'.repeat(64), rpm: 60, tpm: 100_000, monthlyBudgetUsd: 10 }],
  models: {
    'gpt-4o-mini': { inputUsdPer1M: 0.15, outputUsdPer1M: 0.6 },
    'gpt-4o': { inputUsdPer1M: 2.5, outputUsdPer1M: 10 },
  },
  aliases: { default: 'gpt-4o-mini' },
  limits: { maxTokens: 1000, defaultMaxTokens: 200, maxN: 2, maxStopSequences: 2, maxBodyBytes: 4096 },
  budget: { monthlyUsd: 100, notifyAtPercent: 80 },
  cache: { ttlSeconds: 0 },
};
const ENV = {
  STAGE: 'test',
  AWS_REGION: 'us-east-1',
  OPENAI_API_KEY: 'sk-project-local',
  OPENAI_ORGANIZATION: 'org-test',
  OPENAI_PROJECT: 'proj_stage',
  BATCH_BUCKET: BUCKET,
  BATCH_JOBS_TABLE: 'jobs',
  GATEWAY_CONFIG_JSON: JSON.stringify(CONFIG),
};
const saved = { ...process.env };

/** The objects in the bucket. */
const objects = new Map<string, string>();
/** The jobs table: just enough of DynamoDB's semantics for the expressions the handler uses. */
const table = new Map<string, Record<string, AttributeValue>>();

function installAwsFakes(): void {
  s3.on(HeadObjectCommand).callsFake(({ Key }) => ({ ETag: `"etag-${objects.get(Key)?.length}"` }));
  s3.on(GetObjectCommand).callsFake(({ Key }) => {
    const text = objects.get(Key);
    if (text === undefined) throw Object.assign(new Error('NoSuchKey'), { name: 'NoSuchKey' });
    return { ContentLength: Buffer.byteLength(text), Body: { transformToString: async () => text } };
  });
  s3.on(PutObjectCommand).callsFake(({ Key, Body }) => {
    objects.set(Key, String(Body));
    return {};
  });
  const conditionFailed = () =>
    new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });
  dynamodb.on(PutItemCommand).callsFake(({ Item, ExpressionAttributeValues }) => {
    const existing = table.get(Item.pk.S);
    if (existing && existing.status.S !== ExpressionAttributeValues[':retryable'].S) throw conditionFailed();
    table.set(Item.pk.S, { ...Item });
  });
  dynamodb.on(GetItemCommand).callsFake(({ Key }) => ({ Item: table.get(Key.pk.S) }));
  dynamodb
    .on(UpdateItemCommand)
    .callsFake(
      ({
        Key,
        UpdateExpression,
        ConditionExpression,
        ExpressionAttributeNames,
        ExpressionAttributeValues,
      }) => {
        const item = table.get(Key.pk.S);
        if (!item) throw conditionFailed();
        if (
          ConditionExpression === '#status = :expected' &&
          item.status.S !== ExpressionAttributeValues[':expected'].S
        )
          throw conditionFailed();
        for (const assignment of (UpdateExpression as string).replace(/^SET /, '').split(', ')) {
          const [name, value] = assignment.split(' = ');
          item[ExpressionAttributeNames[name]] = ExpressionAttributeValues[value];
        }
      },
    );
  dynamodb.on(ScanCommand).callsFake(({ ExpressionAttributeValues }) => ({
    Items: [...table.values()].filter((i) => i.status.S === ExpressionAttributeValues[':submitted'].S),
  }));
}

const job = () => {
  const [item] = [...table.values()];
  return Object.fromEntries(Object.entries(item ?? {}).map(([k, v]) => [k, v.S ?? Number(v.N)]));
};
const s3Event = (key: string) => ({
  Records: [
    {
      eventSource: 'aws:s3',
      s3: { bucket: { name: BUCKET }, object: { key: encodeURIComponent(key), eTag: `etag-${key}` } },
    },
  ],
});
const line = (customId: string, body: Record<string, unknown>) =>
  JSON.stringify({ custom_id: customId, method: 'POST', url: '/v1/chat/completions', body });
const question = (customId: string, extra: Record<string, unknown> = {}) =>
  line(customId, {
    model: 'default',
    messages: [{ role: 'user', content: `Question ${customId}` }],
    ...extra,
  });
const retryFast = { 'retry-after-ms': '1' };

beforeAll(async () => {
  await fake.start();
  Object.assign(process.env, ENV, { OPENAI_BASE_URL: fake.url });
  const { createHandler } = await import('../../lambda/batch');
  const { createHandlerTools } = await import('../../runtime/powertools');
  handler = createHandler(createHandlerTools('test', () => now));
});
afterAll(async () => {
  await fake.stop();
  process.env = saved;
});
beforeEach(() => {
  now = MID_MONTH;
  fake.reset();
  admin.reset();
  s3.reset();
  dynamodb.reset();
  objects.clear();
  table.clear();
  installAwsFakes();
  Object.assign(process.env, ENV, { OPENAI_BASE_URL: fake.url });
  capture.clear();
  capture.start();
});
afterEach(() => capture.stop());

describe('batch submission', () => {
  it('validates an input file, resolves aliases, applies the default max tokens and submits it once', async () => {
    objects.set(
      'input/daily/questions.jsonl',
      [question('a'), question('b', { max_completion_tokens: 50 })].join('\n') + '\n',
    );

    const result = await handler(s3Event('input/daily/questions.jsonl'));
    capture.stop();

    expect(result.submissions).toEqual({ 'input/daily/questions.jsonl': 'submitted' });
    const [batch] = admin.batches.values();
    expect(batch).toMatchObject({
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
      status: 'validating',
    });
    expect(batch.metadata).toEqual({ source: 'input/daily/questions.jsonl' });
    const uploaded = admin.files.get(batch.input_file_id)!;
    expect(uploaded.purpose).toBe('batch');
    const lines = uploaded.content
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.custom_id, l.body.model, l.body.max_completion_tokens])).toEqual([
      ['a', 'gpt-4o-mini', 200],
      ['b', 'gpt-4o-mini', 50],
    ]);
    expect(job()).toMatchObject({
      status: 'submitted',
      batchId: batch.id,
      model: 'gpt-4o-mini',
      requests: 2,
    });
    expect(capture.metric(BatchMetric.submitted)).toEqual([1]);
    expectStageOnlyDimensions(capture, 'test');
    // The worst case is logged at batch (half) price; the prompts are not logged.
    expect(capture.logs('batch submitted')[0]).toMatchObject({
      priceFactor: 0.5,
      worstCaseCostUsd: expect.any(Number),
    });
    expect(capture.text).not.toContain('Question a');
  });

  it('does not submit the same file twice when the event is delivered again', async () => {
    objects.set('input/q.jsonl', question('a'));
    await handler(s3Event('input/q.jsonl'));
    const again = await handler(s3Event('input/q.jsonl'));
    capture.stop();

    expect(again.submissions).toEqual({ 'input/q.jsonl': 'duplicate' });
    expect(admin.batches.size).toBe(1);
    expect(fake.requestsTo('/v1/files')).toHaveLength(1);
    expect(capture.metric(BatchMetric.submitted)).toEqual([1]);
  });

  it('accepts the EventBridge form of an S3 object-created event, and ignores keys outside input/', async () => {
    objects.set('input/eb.jsonl', question('a'));
    const eb = (key: string) => ({
      source: 'aws.s3',
      'detail-type': 'Object Created',
      detail: { bucket: { name: BUCKET }, object: { key, etag: 'etag-1' } },
    });
    expect((await handler(eb('input/eb.jsonl'))).submissions).toEqual({ 'input/eb.jsonl': 'submitted' });
    expect((await handler(eb('output/eb.results.jsonl'))).submissions).toEqual({
      'output/eb.results.jsonl': 'ignored',
    });
    capture.stop();
    expect(admin.batches.size).toBe(1);
  });

  it('rejects a file that breaks the gateway limits, with a report of every bad line in output/', async () => {
    objects.set(
      'input/bad.jsonl',
      [
        question('ok'),
        question('ok'),
        line('m', { model: 'gpt-5-unknown', messages: [{ role: 'user', content: 'x' }] }),
        question('big', { max_tokens: 5000 }),
        question('stream', { stream: true }),
        question('n', { n: 3 }),
        question('stops', { stop: ['a', 'b', 'c'] }),
        '{not json',
        JSON.stringify({
          custom_id: 'e',
          method: 'POST',
          url: '/v1/embeddings',
          body: { model: 'default', messages: [{}] },
        }),
      ].join('\n'),
    );

    const result = await handler(s3Event('input/bad.jsonl'));
    capture.stop();

    expect(result.submissions).toEqual({ 'input/bad.jsonl': 'rejected' });
    const report = JSON.parse(objects.get('output/bad.rejected.json')!);
    expect(report.errors.map((e: { line: number }) => e.line)).toEqual([2, 3, 4, 5, 6, 7, 8, 9]);
    expect(report.errors[0].message).toContain('custom_id "ok" repeats');
    // The gateway's own messages: the batch handler prepares each body with the gateway's spec.
    expect(report.errors[1]).toMatchObject({
      message: 'The model `gpt-5-unknown` does not exist or you do not have access to it.',
      param: 'model',
    });
    expect(report.errors[2]).toMatchObject({
      message: "'max_tokens' is 5000; this gateway allows at most 1000.",
      param: 'max_tokens',
    });
    expect(report.errors[3]).toMatchObject({
      message: "'stream' is not allowed in a batch.",
      param: 'stream',
    });
    expect(report.errors[4]).toMatchObject({
      message: "'n' is 3; this gateway allows at most 2.",
      param: 'n',
    });
    expect(report.errors[7].message).toContain('url must be "/v1/chat/completions"');
    expect(job()).toMatchObject({ status: 'rejected', errors: 8 });
    expect(fake.requests).toHaveLength(0);
    expect(capture.metric(BatchMetric.rejected)).toEqual([1]);
  });

  it('rejects a file that mixes models, since one batch takes one model', async () => {
    objects.set(
      'input/mixed.jsonl',
      [question('a'), line('b', { model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] })].join('\n'),
    );
    expect((await handler(s3Event('input/mixed.jsonl'))).submissions).toEqual({
      'input/mixed.jsonl': 'rejected',
    });
    capture.stop();
    expect(JSON.parse(objects.get('output/mixed.rejected.json')!).errors[0].message).toContain(
      'one model per batch',
    );
  });

  it('lets Lambda retry when the upload fails, and submits once on the retry', async () => {
    objects.set('input/retry.jsonl', question('a'));
    fake.enqueue(
      ...Array.from({ length: 3 }, () => ({ path: '/v1/files', status: 500, headers: retryFast })),
    );

    await expect(handler(s3Event('input/retry.jsonl'))).rejects.toThrow(
      'could not upload the batch input file',
    );
    expect(job()).toMatchObject({ status: 'submit_failed' });

    const retried = await handler(s3Event('input/retry.jsonl'));
    capture.stop();
    expect(retried.submissions).toEqual({ 'input/retry.jsonl': 'submitted' });
    expect(admin.batches.size).toBe(1);
  });

  it('lets Lambda retry a batch creation refused with 429', async () => {
    objects.set('input/limited.jsonl', question('a'));
    fake.enqueue(
      ...Array.from({ length: 3 }, () => ({ path: '/v1/batches', status: 429, headers: retryFast })),
    );

    await expect(handler(s3Event('input/limited.jsonl'))).rejects.toThrow('retrying is safe');
    expect((await handler(s3Event('input/limited.jsonl'))).submissions).toEqual({
      'input/limited.jsonl': 'submitted',
    });
    capture.stop();
    expect(admin.batches.size).toBe(1);
  });

  it('never retries a batch creation whose outcome is unknown (5xx)', async () => {
    objects.set('input/unknown.jsonl', question('a'));
    fake.enqueue(
      ...Array.from({ length: 3 }, () => ({ path: '/v1/batches', status: 500, headers: retryFast })),
    );

    const first = await handler(s3Event('input/unknown.jsonl'));
    const second = await handler(s3Event('input/unknown.jsonl'));
    capture.stop();

    expect(first.submissions).toEqual({ 'input/unknown.jsonl': 'unknown' });
    expect(second.submissions).toEqual({ 'input/unknown.jsonl': 'duplicate' });
    expect(job()).toMatchObject({ status: 'submit_unknown' });
    expect(fake.requestsTo('/v1/batches')).toHaveLength(3);
    expect(capture.metric(BatchMetric.failed)).toEqual([1]);
  });
});

describe('batch polling', () => {
  async function submitted(key = 'input/poll.jsonl'): Promise<string> {
    objects.set(key, [question('a'), question('b')].join('\n'));
    await handler(s3Event(key));
    return [...admin.batches.keys()].at(-1)!;
  }

  it('leaves running batches alone', async () => {
    await submitted();
    const result = await handler({ 'detail-type': 'Scheduled Event', source: 'aws.events' });
    capture.stop();

    expect(result.poll).toEqual({ running: 1, completed: 0, failed: 0, errors: 0 });
    expect([...objects.keys()].filter((k) => k.startsWith('output/'))).toEqual([]);
  });

  it('records when a job was claimed and finished from its clock, across a year end', async () => {
    now = Date.parse('2026-12-31T23:59:59.500Z');
    const batchId = await submitted();
    expect(job()).toMatchObject({
      createdAt: '2026-12-31T23:59:59.500Z',
      updatedAt: '2026-12-31T23:59:59.500Z',
    });
    admin.completeBatch(batchId);
    now = Date.parse('2027-01-01T00:00:00.250Z');
    await handler({ action: 'poll' });
    capture.stop();
    expect(job()).toMatchObject({
      status: 'completed',
      createdAt: '2026-12-31T23:59:59.500Z',
      updatedAt: '2027-01-01T00:00:00.250Z',
    });
  });

  it('writes results and per-request errors of a finished batch to output/ and records the cost at half price', async () => {
    const batchId = await submitted();
    admin.completeBatch(batchId, { failCustomIds: ['b'] });

    const result = await handler({ action: 'poll' });
    capture.stop();

    expect(result.poll).toEqual({ running: 0, completed: 1, failed: 0, errors: 0 });
    const results = objects
      .get('output/poll.results.jsonl')!
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const errors = objects
      .get('output/poll.errors.jsonl')!
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(results.map((r) => r.custom_id)).toEqual(['a']);
    expect(errors.map((r) => r.custom_id)).toEqual(['b']);
    // 1000 prompt + 500 completion tokens of gpt-4o-mini: 0.00015 + 0.0003 USD, halved.
    expect(job()).toMatchObject({
      status: 'completed',
      requestsCompleted: 1,
      requestsFailed: 1,
      costUsd: 0.000225,
    });
    expect(capture.metric(BatchMetric.completed)).toEqual([1]);

    // A later poll does not collect it again.
    capture.start();
    expect((await handler({ action: 'poll' })).poll).toEqual({
      running: 0,
      completed: 0,
      failed: 0,
      errors: 0,
    });
  });

  it('records a failed batch and writes its errors to output/', async () => {
    const batchId = await submitted();
    admin.failBatch(batchId);

    const result = await handler({ action: 'poll' });
    capture.stop();

    expect(result.poll).toMatchObject({ failed: 1 });
    const report = JSON.parse(objects.get('output/poll.batch-errors.json')!);
    expect(report).toMatchObject({
      batchId,
      status: 'failed',
      errors: [{ code: 'invalid_request', line: 1 }],
    });
    expect(job()).toMatchObject({ status: 'failed', batchStatus: 'failed' });
    expect(capture.metric(BatchMetric.failed)).toEqual([1]);
  });

  it('collects the partial results of an expired batch as a failure', async () => {
    const batchId = await submitted();
    admin.completeBatch(batchId, { status: 'expired' });

    const result = await handler({ action: 'poll' });
    capture.stop();

    expect(result.poll).toMatchObject({ failed: 1 });
    expect(objects.has('output/poll.results.jsonl')).toBe(true);
    expect(job()).toMatchObject({ status: 'failed', batchStatus: 'expired' });
  });

  it('keeps a job submitted when its status cannot be read, and polls it again next time', async () => {
    const batchId = await submitted();
    fake.enqueue(
      ...Array.from({ length: 3 }, () => ({
        path: `/v1/batches/${batchId}`,
        status: 503,
        headers: retryFast,
      })),
    );

    const result = await handler({ action: 'poll' });
    capture.stop();

    expect(result.poll).toEqual({ running: 0, completed: 0, failed: 0, errors: 1 });
    expect(job()).toMatchObject({ status: 'submitted' });
    expect(capture.logs('could not collect batch; the next poll retries')[0]).toMatchObject({
      cause: 'server_error',
      status: 503,
    });
  });
});

describe('validateBatchInput', () => {
  const config = parseGatewayConfig(CONFIG);

  it('counts the worst case at half the model price', () => {
    const v = validateBatchInput(question('a', { max_completion_tokens: 1000 }), config);
    if (!v.ok) throw new Error('expected a valid file');
    // The gateway's prompt estimate: (content bytes + 4 framing tokens x 3 bytes) / 3 bytes a token,
    // plus 3 for the reply's priming; 1000 completion tokens at 0.6 USD/1M; all halved.
    const promptTokens = Math.ceil((Buffer.byteLength('Question a') + 4 * 3) / 3) + 3;
    expect(v.worstCaseCostNanos).toBe(Math.ceil(((promptTokens * 0.15 + 1000 * 0.6) * 1000) / 2));
  });

  it('refuses an empty file and an oversized line', () => {
    expect(validateBatchInput('\n\n', config)).toEqual({
      ok: false,
      errors: [{ line: 0, message: 'the file has no requests' }],
    });
    const long = question('a', { messages: [{ role: 'user', content: 'x'.repeat(5000) }] });
    const v = validateBatchInput(long, config);
    expect(v.ok).toBe(false);
    expect(!v.ok && v.errors[0].message).toMatch(/bytes; the limit is 4096/);
  });
});
