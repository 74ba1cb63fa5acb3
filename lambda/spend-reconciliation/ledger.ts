import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SpendLedgerAttribute, SpendLedgerKey, STAGE_SCOPE } from '../../runtime/spend-ledger-schema';
import { dynamoDbSdk, isConditionalCheckFailed } from '../shared/aws-sdk';

/** What the raise did: `raised` wrote the new figure, `unchanged` found one at least as high. */
export type LedgerRaise = 'raised' | 'unchanged';

export interface RaiseBilledSpend {
  readonly dynamodb: DynamoDBClient;
  /** The spend ledger table. */
  readonly table: string;
  /** UTC month, `YYYY-MM`. */
  readonly month: string;
  /** OpenAI's billed month-to-date cost of the stage's project, integer nano-dollars. */
  readonly billedNanos: number;
}

/**
 * Raises the stage's `billedNanos` of `month` to `billedNanos`, never lowering it: the costs API can
 * answer with less than before (a bucket not yet filled, a page that failed upstream) and the ledger's
 * spend must only grow. One conditional UpdateItem, so two reconciliations at once cannot lower it
 * either; `spentNanos`, which the gateway adds to, is left alone.
 * @throws the DynamoDB error when the write fails for any reason but the condition
 */
export async function raiseBilledSpend(input: RaiseBilledSpend): Promise<LedgerRaise> {
  const { UpdateItemCommand } = dynamoDbSdk();
  try {
    await input.dynamodb.send(
      new UpdateItemCommand({
        TableName: input.table,
        Key: {
          [SpendLedgerKey.month]: { S: input.month },
          [SpendLedgerKey.scope]: { S: STAGE_SCOPE },
        },
        UpdateExpression: 'SET #billed = :billed',
        ConditionExpression: 'attribute_not_exists(#billed) OR #billed < :billed',
        ExpressionAttributeNames: { '#billed': SpendLedgerAttribute.billedNanos },
        ExpressionAttributeValues: { ':billed': { N: String(input.billedNanos) } },
      }),
    );
    return 'raised';
  } catch (err) {
    // The ledger already holds at least this much: the answer, not a failure.
    if (isConditionalCheckFailed(err)) return 'unchanged';
    throw err;
  }
}
