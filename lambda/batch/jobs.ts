import type { AttributeValue, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { dynamoDbSdk as sdk, isConditionalCheckFailed } from '../shared/aws-sdk';

/**
 * Life of a batch job. `submitting` is taken before anything is sent to OpenAI, with a conditional
 * write, so a retried event cannot submit the same file twice; only `submit_failed` (nothing was
 * created at OpenAI) may be claimed again.
 */
export type JobStatus =
  'submitting' | 'submit_failed' | 'submit_unknown' | 'rejected' | 'submitted' | 'completed' | 'failed';

export interface BatchJob {
  readonly pk: string;
  readonly status: JobStatus;
  /** S3 key of the input file. */
  readonly inputKey: string;
  readonly batchId?: string;
}

/** Key of the job for one version of one input object: a new upload of the same key is a new job. */
export function jobKey(inputKey: string, etag: string): string {
  return `job#${inputKey}#${etag.replace(/"/g, '')}`;
}

/** Batch job records in DynamoDB (partition key `pk`, string). */
export class BatchJobs {
  constructor(
    /** The DynamoDB client, created on first use. */
    private readonly client: () => Promise<DynamoDBClient>,
    private readonly table: string,
  ) {}

  /**
   * Claims the job for submission. @returns the existing job when another attempt already claimed it
   * (and did not fail before creating anything at OpenAI), or undefined when this attempt owns it now.
   */
  async claim(pk: string, inputKey: string, at: number): Promise<BatchJob | undefined> {
    const { PutItemCommand } = sdk();
    try {
      await (
        await this.client()
      ).send(
        new PutItemCommand({
          TableName: this.table,
          Item: {
            pk: { S: pk },
            status: { S: 'submitting' },
            inputKey: { S: inputKey },
            createdAt: { S: new Date(at).toISOString() },
            updatedAt: { S: new Date(at).toISOString() },
          },
          ConditionExpression: 'attribute_not_exists(pk) OR #status = :retryable',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':retryable': { S: 'submit_failed' } },
        }),
      );
      return undefined;
    } catch (err) {
      if (!isConditionalCheckFailed(err)) throw err;
      const existing = await this.get(pk);
      return existing ?? { pk, status: 'submitting', inputKey };
    }
  }

  async get(pk: string): Promise<BatchJob | undefined> {
    const { GetItemCommand } = sdk();
    const out = await (
      await this.client()
    ).send(new GetItemCommand({ TableName: this.table, Key: { pk: { S: pk } }, ConsistentRead: true }));
    return out.Item ? toJob(out.Item) : undefined;
  }

  /** Records a state change with extra attributes (strings and numbers). */
  async update(
    pk: string,
    status: JobStatus,
    at: number,
    attributes: Readonly<Record<string, string | number>> = {},
    onlyIfStatus?: JobStatus,
  ): Promise<boolean> {
    const names: Record<string, string> = { '#status': 'status', '#updatedAt': 'updatedAt' };
    const values: Record<string, AttributeValue> = {
      ':status': { S: status },
      ':updatedAt': { S: new Date(at).toISOString() },
    };
    const sets = ['#status = :status', '#updatedAt = :updatedAt'];
    Object.entries(attributes).forEach(([name, value], i) => {
      names[`#a${i}`] = name;
      values[`:a${i}`] = typeof value === 'number' ? { N: String(value) } : { S: value };
      sets.push(`#a${i} = :a${i}`);
    });
    if (onlyIfStatus) values[':expected'] = { S: onlyIfStatus };
    const { UpdateItemCommand } = sdk();
    try {
      await (
        await this.client()
      ).send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: { pk: { S: pk } },
          UpdateExpression: `SET ${sets.join(', ')}`,
          ConditionExpression: onlyIfStatus ? '#status = :expected' : 'attribute_exists(pk)',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
      return true;
    } catch (err) {
      if (isConditionalCheckFailed(err)) return false;
      throw err;
    }
  }

  /** Jobs submitted to OpenAI and not yet collected. A scan: the table holds one small item per file. */
  async listSubmitted(): Promise<BatchJob[]> {
    const { ScanCommand } = sdk();
    const dynamodb = await this.client();
    const jobs: BatchJob[] = [];
    let startKey: Record<string, AttributeValue> | undefined;
    do {
      const out = await dynamodb.send(
        new ScanCommand({
          TableName: this.table,
          FilterExpression: '#status = :submitted',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':submitted': { S: 'submitted' } },
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      for (const item of out.Items ?? []) jobs.push(toJob(item));
      startKey = out.LastEvaluatedKey;
    } while (startKey);
    return jobs;
  }
}

function toJob(item: Record<string, AttributeValue>): BatchJob {
  const batchId = item.batchId?.S;
  return {
    pk: item.pk?.S ?? '',
    status: (item.status?.S ?? 'submitting') as JobStatus,
    inputKey: item.inputKey?.S ?? '',
    ...(batchId ? { batchId } : {}),
  };
}
