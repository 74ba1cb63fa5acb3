import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { parseCostsPage } from '../../lambda/spend-reconciliation/costs';
import { utcMonthStart } from '../../runtime/clock';
import { Dimension, GatewayMetric, METRIC_NAMESPACE, ReconciliationMetric } from '../../runtime/metric-names';
import { FakeOpenAI } from '../support/fake-openai';
import { FakeOpenAIAdmin } from '../support/fake-openai-admin';
import { expectStageOnlyDimensions, OutputCapture, secretArn } from './support';

const cloudwatch = mockClient(CloudWatchClient);
const secretsManager = mockClient(SecretsManagerClient);
const fake = new FakeOpenAI();
const admin = new FakeOpenAIAdmin(fake);
const capture = new OutputCapture();
let handler: typeof import('../../lambda/spend-reconciliation').handler;
let createHandler: typeof import('../../lambda/spend-reconciliation').createHandler;
let createHandlerTools: typeof import('../../runtime/powertools').createHandlerTools;

/** The handler's clock: mid-month unless a test moves it to a boundary. */
const MID_MONTH = Date.UTC(2026, 5, 17, 10, 30, 0);
let now = MID_MONTH;

const PROJECT = 'proj_stage';
const ENV = {
  STAGE: 'test',
  AWS_REGION: 'us-east-1',
  OPENAI_ADMIN_KEY: admin.adminKey,
  OPENAI_ORGANIZATION: 'org-test',
  OPENAI_PROJECT: PROJECT,
};
const saved = { ...process.env };
const monthStart = () => utcMonthStart(now) / 1000;
const page = (usd: number[], nextPage: string | null) => ({
  object: 'page',
  data: usd.map((value, i) => ({
    object: 'bucket',
    start_time: monthStart() + i * 86_400,
    end_time: monthStart() + (i + 1) * 86_400,
    results: [
      {
        object: 'organization.costs.result',
        amount: { value, currency: 'usd' },
        line_item: null,
        project_id: null,
      },
    ],
  })),
  has_more: nextPage !== null,
  next_page: nextPage,
});
const meteredSpend = (usd: number) =>
  cloudwatch.on(GetMetricDataCommand).resolves({
    MetricDataResults: [
      { Id: 'metered', Values: [usd, usd - 1], Timestamps: [new Date(now), new Date(now - 300_000)] },
    ],
  });

beforeAll(async () => {
  await fake.start();
  Object.assign(process.env, ENV, { OPENAI_BASE_URL: fake.url });
  ({ createHandler } = await import('../../lambda/spend-reconciliation'));
  ({ createHandlerTools } = await import('../../runtime/powertools'));
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
  cloudwatch.reset();
  secretsManager.reset();
  delete process.env.OPENAI_ADMIN_KEY_SECRET_ARN;
  Object.assign(process.env, ENV, { OPENAI_BASE_URL: fake.url });
  capture.clear();
  capture.start();
});
afterEach(() => capture.stop());

describe('spend reconciliation', () => {
  it("publishes the project's month-to-date cost and its drift from the gateway's metered spend", async () => {
    admin.setDailyCosts(PROJECT, monthStart(), [1.25, 2.5, 0.75]);
    admin.setDailyCosts('proj_other', monthStart(), [100]);
    meteredSpend(4);

    const result = await handler({});
    capture.stop();

    expect(result).toEqual({
      success: true,
      actualSpendUsd: 4.5,
      meteredSpendUsd: 4,
      driftUsd: 0.5,
      ledger: 'skipped',
    });
    expect(capture.metric(ReconciliationMetric.actualSpendUsd)).toEqual([4.5]);
    expect(capture.metric(ReconciliationMetric.spendDriftUsd)).toEqual([0.5]);
    expect(capture.metric(ReconciliationMetric.failure)).toEqual([0]);
    expectStageOnlyDimensions(capture, 'test');

    const [costs] = fake.requestsTo('/v1/organization/costs');
    expect(costs.apiKey).toBe(admin.adminKey);
    expect(costs.query.get('start_time')).toBe(String(monthStart()));
    expect(costs.query.getAll('project_ids[]')).toEqual([PROJECT]);
    expect(costs.query.get('bucket_width')).toBe('1d');
    expect(costs.headers['openai-organization']).toBe('org-test');

    const [query] = cloudwatch.commandCalls(GetMetricDataCommand).map((c) => c.args[0].input);
    expect(query.MetricDataQueries![0].MetricStat).toMatchObject({
      Metric: {
        Namespace: METRIC_NAMESPACE,
        MetricName: GatewayMetric.monthToDateSpendUsd,
        Dimensions: [{ Name: Dimension.stage, Value: 'test' }],
      },
      Stat: 'Maximum',
    });
    expect(query.StartTime!.getTime()).toBeGreaterThanOrEqual(monthStart() * 1000);
    expect(capture.text).not.toContain(admin.adminKey);
  });

  it('follows has_more / next_page across pages', async () => {
    admin.costsPages.push(page([1, 2], 'cursor-2'), page([3], 'cursor-3'), page([0.5], null));
    meteredSpend(6.5);

    const result = await handler({});
    capture.stop();

    expect(result).toMatchObject({ success: true, actualSpendUsd: 6.5, driftUsd: 0 });
    const requests = fake.requestsTo('/v1/organization/costs');
    expect(requests.map((r) => r.query.get('page'))).toEqual([null, 'cursor-2', 'cursor-3']);
    expect(capture.logs('read month-to-date costs')[0]).toMatchObject({ pages: 3, buckets: 4 });
  });

  it('paginates the computed buckets the fake serves with its own cursor', async () => {
    // 31 buckets a page: a 40-day range needs two pages.
    const start = monthStart() - 40 * 86_400;
    admin.setDailyCosts(
      PROJECT,
      start,
      Array.from({ length: 40 }, () => 0.1),
    );
    const { readProjectCosts } = await import('../../lambda/spend-reconciliation/costs');
    const { createOpenAIClient } = await import('../../runtime/openai-client');
    const costs = await readProjectCosts(
      await createOpenAIClient({ kind: 'admin' }),
      PROJECT,
      start,
      monthStart(),
    );
    expect(costs).toEqual({ totalUsd: 4, pages: 2, buckets: 40 });
  });

  it.each([
    ['no data array', { object: 'page', has_more: false }],
    ['a result whose amount is not a number', page([Number.NaN], null)],
    ['has_more without next_page', { ...page([1], null), has_more: true }],
    ['a string body', 'not json at all'],
  ])('treats a costs page with %s as a failure, without crashing', async (_what, body) => {
    admin.costsPages.push(body);
    meteredSpend(1);

    const result = await handler({});
    capture.stop();

    expect(result).toEqual({ success: false, cause: 'bad_response' });
    expect(capture.metric(ReconciliationMetric.failure)).toEqual([1]);
    expect(capture.metric(ReconciliationMetric.actualSpendUsd)).toEqual([]);
    expect(capture.logs('spend reconciliation could not read costs')[0]).toMatchObject({
      cause: 'bad_response',
    });
  });

  it('stops when the cursor does not advance', async () => {
    admin.costsPages.push(page([1], 'same'), page([1], 'same'), page([1], 'same'));
    const result = await handler({});
    capture.stop();

    expect(result).toEqual({ success: false, cause: 'bad_response' });
    expect(fake.requestsTo('/v1/organization/costs')).toHaveLength(2);
  });

  it('reports an invalid admin key as one clear log line and a failure metric', async () => {
    process.env.OPENAI_ADMIN_KEY = 'sk-proj-not-an-admin-key';
    const result = await handler({});
    capture.stop();

    expect(result).toEqual({ success: false, cause: 'auth' });
    expect(capture.metric(ReconciliationMetric.failure)).toEqual([1]);
    const [line] = capture.logs('spend reconciliation could not read costs');
    expect(line).toMatchObject({ cause: 'auth', status: 401, hint: expect.stringContaining('admin key') });
    expect(capture.text).not.toContain('sk-proj-not-an-admin-key');
    expect(capture.text).not.toContain('is a reserved key');
  });

  it('reports a missing admin key without calling OpenAI', async () => {
    delete process.env.OPENAI_ADMIN_KEY;
    const result = await handler({});
    capture.stop();

    expect(result).toEqual({ success: false, cause: 'secret' });
    expect(fake.requests).toHaveLength(0);
    expect(capture.metric(ReconciliationMetric.failure)).toEqual([1]);
  });

  it('reads the admin key from Secrets Manager when no local key is set', async () => {
    delete process.env.OPENAI_ADMIN_KEY;
    process.env.OPENAI_ADMIN_KEY_SECRET_ARN = secretArn('admin-key');
    secretsManager
      .on(GetSecretValueCommand, { SecretId: secretArn('admin-key') })
      .resolves({ SecretString: JSON.stringify({ adminKey: admin.adminKey }) });
    admin.setDailyCosts(PROJECT, monthStart(), [2]);
    meteredSpend(2);

    const result = await handler({});
    capture.stop();

    expect(result).toMatchObject({ success: true, actualSpendUsd: 2, driftUsd: 0 });
    expect(fake.requestsTo('/v1/organization/costs')[0].apiKey).toBe(admin.adminKey);
  });

  it.each([
    [429, 'rate_limit'],
    [500, 'server_error'],
  ])('retries a %i, then reports it as %s', async (status, cause) => {
    const retryFast = { 'retry-after-ms': '1' };
    fake.enqueue(
      ...Array.from({ length: 3 }, () => ({ path: '/v1/organization/costs', status, headers: retryFast })),
    );
    const result = await handler({});
    capture.stop();

    expect(result).toEqual({ success: false, cause });
    expect(fake.requestsTo('/v1/organization/costs')).toHaveLength(3);
    expect(capture.metric(ReconciliationMetric.failure)).toEqual([1]);
  });

  it('recovers from one 5xx through the SDK retry', async () => {
    fake.enqueue({ path: '/v1/organization/costs', status: 502, headers: { 'retry-after-ms': '1' } });
    admin.setDailyCosts(PROJECT, monthStart(), [3]);
    meteredSpend(3);
    const result = await handler({});
    capture.stop();

    expect(result).toMatchObject({ success: true, actualSpendUsd: 3 });
  });

  it('publishes the actual spend without drift when the gateway reported nothing recently', async () => {
    admin.setDailyCosts(PROJECT, monthStart(), [1.5]);
    cloudwatch
      .on(GetMetricDataCommand)
      .resolves({ MetricDataResults: [{ Id: 'metered', Values: [], Timestamps: [] }] });

    const result = await handler({});
    capture.stop();

    expect(result).toEqual({ success: true, actualSpendUsd: 1.5, ledger: 'skipped' });
    expect(capture.metric(ReconciliationMetric.actualSpendUsd)).toEqual([1.5]);
    expect(capture.metric(ReconciliationMetric.spendDriftUsd)).toEqual([]);
  });

  it('still publishes the actual spend when CloudWatch cannot be read', async () => {
    admin.setDailyCosts(PROJECT, monthStart(), [1.5]);
    cloudwatch.on(GetMetricDataCommand).rejects(new Error('AccessDenied'));

    const result = await handler({});
    capture.stop();

    expect(result).toEqual({ success: true, actualSpendUsd: 1.5, ledger: 'skipped' });
    expect(capture.metric(ReconciliationMetric.failure)).toEqual([0]);
    const [line] = capture.logs(
      'could not read the gateway metered spend from CloudWatch; drift not published',
    );
    expect(line).toMatchObject({ level: 'ERROR', detail: 'AccessDenied' });
  });
});

describe('spend reconciliation at the edges of a month', () => {
  // Every day from the start of the month before carries $0.25, so the month-to-date cost is
  // 0.25 x the days of the month so far (today included), and nothing of the month before counts.
  it.each([
    ['the first minutes of a year', '2027-01-01T00:05:00.000Z', '2027-01-01T00:00:00.000Z', 1],
    ['the last minute of a year', '2026-12-31T23:59:30.000Z', '2026-12-01T00:00:00.000Z', 31],
    ['the last minute of February', '2027-02-28T23:59:30.000Z', '2027-02-01T00:00:00.000Z', 28],
    ['the first minute of March', '2027-03-01T00:00:30.000Z', '2027-03-01T00:00:00.000Z', 1],
    ['a leap day', '2028-02-29T12:00:00.000Z', '2028-02-01T00:00:00.000Z', 29],
  ])('at %s (%s) reads the month from %s: %i days', async (_what, at, expectedStart, days) => {
    now = Date.parse(at);
    const start = Date.parse(expectedStart) / 1000;
    const previousMonth = utcMonthStart(start * 1000 - 1) / 1000;
    admin.setDailyCosts(
      PROJECT,
      previousMonth,
      Array.from({ length: 70 }, () => 0.25),
    );
    meteredSpend(0.25 * days);

    const result = await handler({});
    capture.stop();

    expect(result).toEqual({
      success: true,
      actualSpendUsd: 0.25 * days,
      meteredSpendUsd: 0.25 * days,
      driftUsd: 0,
      ledger: 'skipped',
    });
    const [costs] = fake.requestsTo('/v1/organization/costs');
    expect(Number(costs.query.get('start_time'))).toBe(start);
    expect(Number(costs.query.get('end_time'))).toBe(Math.ceil(now / 1000));
    const [query] = cloudwatch.commandCalls(GetMetricDataCommand).map((c) => c.args[0].input);
    // Six hours back, but never into the month before: last month's total is not this month's.
    expect(query.StartTime!.getTime()).toBe(Math.max(start * 1000, now - 6 * 3_600_000));
    expect(query.EndTime!.getTime()).toBe(now);
  });

  it('at the first instant of a month reports $0 without asking for an empty range', async () => {
    now = Date.parse('2027-01-01T00:00:00.000Z');
    admin.setDailyCosts(PROJECT, Date.parse('2026-12-01T00:00:00.000Z') / 1000, [5, 5, 5]);
    meteredSpend(0);

    const result = await handler({});
    capture.stop();

    expect(result).toMatchObject({ success: true, actualSpendUsd: 0 });
    expect(fake.requestsTo('/v1/organization/costs')).toHaveLength(0);
    expect(capture.logs('read month-to-date costs')[0]).toMatchObject({ pages: 0, buckets: 0 });
  });
});

describe('parseCostsPage', () => {
  it('sums USD amounts, accepts numeric strings and skips results without an amount', () => {
    const body = {
      data: [{ results: [{ amount: { value: '0.125', currency: 'usd' } }, { amount: null }, {}] }],
      has_more: false,
      next_page: null,
    };
    expect(parseCostsPage(body)).toEqual({ usd: 0.125, buckets: 1 });
  });

  it('refuses amounts in another currency rather than adding them up', () => {
    const body = { data: [{ results: [{ amount: { value: 1, currency: 'eur' } }] }], has_more: false };
    expect(() => parseCostsPage(body)).toThrow('is in eur, not usd');
  });
});
