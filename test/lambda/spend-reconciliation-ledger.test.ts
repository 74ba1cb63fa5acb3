import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { GetItemCommand, UpdateItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { raiseBilledSpend } from '../../lambda/spend-reconciliation/ledger';
import { utcMonthStart } from '../../runtime/clock';
import { ReconciliationMetric } from '../../runtime/metric-names';
import { SpendLedgerAttribute, SpendLedgerKey, STAGE_SCOPE } from '../../runtime/spend-ledger-schema';
import { DynaliteServer } from '../support/dynalite-server';
import { FakeOpenAI } from '../support/fake-openai';
import { FakeOpenAIAdmin } from '../support/fake-openai-admin';
import { OutputCapture } from './support';

/** The spend ledger table of these tests. */
const TABLE = 'spend-ledger';
let dynamo: DynaliteServer;
let client: DynamoDBClient;

beforeAll(async () => {
  dynamo = await DynaliteServer.start();
  await dynamo.createLedgerTable(TABLE);
  client = dynamo.client();
});
afterAll(async () => {
  await dynamo.stop();
});

/** Each test its own month, so items never carry over between tests. */
let monthCounter = 0;
const freshMonth = (): string => `2026-${String(++monthCounter).padStart(2, '0')}`;

/** The stage item of `month` as plain numbers, or undefined when there is none. */
async function stageItem(month: string): Promise<Record<string, number> | undefined> {
  const { Item } = await client.send(
    new GetItemCommand({
      TableName: TABLE,
      Key: { [SpendLedgerKey.month]: { S: month }, [SpendLedgerKey.scope]: { S: STAGE_SCOPE } },
      ConsistentRead: true,
    }),
  );
  if (!Item) return undefined;
  const numbers: Record<string, number> = {};
  for (const [name, value] of Object.entries(Item))
    if (value.N !== undefined) numbers[name] = Number(value.N);
  return numbers;
}

/** What the gateway does: `ADD spentNanos`. */
async function addSpent(month: string, nanos: number): Promise<void> {
  await client.send(
    new UpdateItemCommand({
      TableName: TABLE,
      Key: { [SpendLedgerKey.month]: { S: month }, [SpendLedgerKey.scope]: { S: STAGE_SCOPE } },
      UpdateExpression: 'ADD #spent :n',
      ExpressionAttributeNames: { '#spent': SpendLedgerAttribute.spentNanos },
      ExpressionAttributeValues: { ':n': { N: String(nanos) } },
    }),
  );
}

const raise = (month: string, billedNanos: number) =>
  raiseBilledSpend({ dynamodb: client, table: TABLE, month, billedNanos });

describe('raiseBilledSpend against a real DynamoDB-compatible server', () => {
  it('creates the stage item with billedNanos when the month has none', async () => {
    const month = freshMonth();
    await expect(raise(month, 1_250_000_000)).resolves.toBe('raised');
    expect(await stageItem(month)).toEqual({ billedNanos: 1_250_000_000 });
  });

  it('raises billedNanos to a higher figure', async () => {
    const month = freshMonth();
    await raise(month, 1_000);
    await expect(raise(month, 2_500)).resolves.toBe('raised');
    expect(await stageItem(month)).toEqual({ billedNanos: 2_500 });
  });

  it.each([
    ['lower', 300],
    ['equal', 500],
  ])('never lowers it: a %s figure leaves it unchanged and is not an error', async (_what, figure) => {
    const month = freshMonth();
    await raise(month, 500);
    await expect(raise(month, figure)).resolves.toBe('unchanged');
    expect(await stageItem(month)).toEqual({ billedNanos: 500 });
  });

  it("leaves the gateway's spentNanos as it is, before and after the gateway adds to it", async () => {
    const month = freshMonth();
    await addSpent(month, 700);
    await expect(raise(month, 900)).resolves.toBe('raised');
    expect(await stageItem(month)).toEqual({ spentNanos: 700, billedNanos: 900 });
    await addSpent(month, 50);
    await expect(raise(month, 800)).resolves.toBe('unchanged');
    expect(await stageItem(month)).toEqual({ spentNanos: 750, billedNanos: 900 });
  });

  it('touches only the stage scope of the given month', async () => {
    const [month, other] = [freshMonth(), freshMonth()];
    await raise(month, 42);
    expect(await stageItem(other)).toBeUndefined();
  });

  it('throws any other failure', async () => {
    await expect(
      raiseBilledSpend({ dynamodb: client, table: 'no-such-table', month: freshMonth(), billedNanos: 1 }),
    ).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });
});

describe('the spend reconciliation handler raises the ledger', () => {
  const cloudwatch = mockClient(CloudWatchClient);
  const fake = new FakeOpenAI();
  const admin = new FakeOpenAIAdmin(fake);
  const capture = new OutputCapture();
  const saved = { ...process.env };
  const PROJECT = 'proj_stage';
  /** Mid-June 2027: a month no raiseBilledSpend test above uses. */
  const NOW = Date.UTC(2027, 5, 17, 10, 30, 0);
  const MONTH = '2027-06';
  let handler: ReturnType<typeof import('../../lambda/spend-reconciliation').createHandler>;

  beforeAll(async () => {
    await fake.start();
    Object.assign(process.env, {
      STAGE: 'test',
      AWS_REGION: 'us-east-1',
      OPENAI_ADMIN_KEY: admin.adminKey,
      OPENAI_PROJECT: PROJECT,
      OPENAI_BASE_URL: fake.url,
    });
    const { createHandler } = await import('../../lambda/spend-reconciliation');
    const { createHandlerTools } = await import('../../runtime/powertools');
    handler = createHandler(
      createHandlerTools('test', () => NOW),
      { dynamodb: client },
    );
  });
  afterAll(async () => {
    await fake.stop();
    process.env = saved;
  });
  beforeEach(() => {
    fake.reset();
    admin.reset();
    cloudwatch.reset();
    cloudwatch.on(GetMetricDataCommand).resolves({
      MetricDataResults: [{ Id: 'metered', Values: [4], Timestamps: [new Date(NOW)] }],
    });
    process.env.SPEND_LEDGER_TABLE = TABLE;
    capture.clear();
    capture.start();
  });
  afterEach(() => capture.stop());

  it("writes OpenAI's month-to-date cost as nano-dollars, then leaves a higher figure alone", async () => {
    admin.setDailyCosts(PROJECT, utcMonthStart(NOW) / 1000, [1.25, 3.25]);
    const first = await handler({});
    expect(first).toEqual({
      success: true,
      actualSpendUsd: 4.5,
      meteredSpendUsd: 4,
      driftUsd: 0.5,
      ledger: 'raised',
    });
    expect(await stageItem(MONTH)).toEqual({ billedNanos: 4_500_000_000 });

    // The costs API answering less (a bucket not yet filled) does not lower the ledger.
    admin.reset();
    admin.setDailyCosts(PROJECT, utcMonthStart(NOW) / 1000, [1.25]);
    const second = await handler({});
    capture.stop();
    expect(second).toMatchObject({ success: true, actualSpendUsd: 1.25, ledger: 'unchanged' });
    expect(await stageItem(MONTH)).toEqual({ billedNanos: 4_500_000_000 });
    expect(capture.metric(ReconciliationMetric.failure)).toEqual([0, 0]);
  });

  it('without a ledger table, reconciles as before and says it skipped the ledger', async () => {
    delete process.env.SPEND_LEDGER_TABLE;
    admin.setDailyCosts(PROJECT, utcMonthStart(NOW) / 1000, [2]);
    const result = await handler({});
    capture.stop();
    expect(result).toEqual({
      success: true,
      actualSpendUsd: 2,
      meteredSpendUsd: 4,
      driftUsd: -2,
      ledger: 'skipped',
    });
  });

  it('still publishes its metrics when the ledger write fails, then reports the failure', async () => {
    process.env.SPEND_LEDGER_TABLE = 'no-such-table';
    admin.setDailyCosts(PROJECT, utcMonthStart(NOW) / 1000, [3]);
    const result = await handler({});
    capture.stop();

    expect(result).toEqual({
      success: false,
      cause: 'unknown',
      actualSpendUsd: 3,
      meteredSpendUsd: 4,
      driftUsd: -1,
      ledger: 'failed',
    });
    expect(capture.metric(ReconciliationMetric.failure)).toEqual([1]);
    expect(capture.metric(ReconciliationMetric.actualSpendUsd)).toEqual([3]);
    expect(capture.metric(ReconciliationMetric.spendDriftUsd)).toEqual([-1]);
    expect(capture.logs('spend reconciliation could not raise the spend ledger')[0]).toMatchObject({
      level: 'ERROR',
      name: 'ResourceNotFoundException',
      month: MONTH,
      billedNanos: 3_000_000_000,
    });
  });
});
