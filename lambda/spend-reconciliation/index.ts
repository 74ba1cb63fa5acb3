import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createHandlerTools, instrumentedHandler, type HandlerTools } from '../../runtime/powertools';
import { cloudWatchSdk, dynamoDbSdk } from '../shared/aws-sdk';
import { lazy } from '../shared/lazy';
import { reconcileSpend } from './reconcile';

const cloudwatch = lazy(async () => new (cloudWatchSdk().CloudWatchClient)({}));
const dynamodb = lazy(async () => new (dynamoDbSdk().DynamoDBClient)({}));

/** AWS clients in place of the ones the handler creates on first use (tests point them at local servers). */
export interface ReconciliationClients {
  /** @default a CloudWatchClient of the function's region */
  readonly cloudwatch?: CloudWatchClient;
  /** @default a DynamoDBClient of the function's region */
  readonly dynamodb?: DynamoDBClient;
}

/** The handler over `tools` (tests pass their own clock) and `clients`. */
export function createHandler(
  tools: HandlerTools = createHandlerTools(),
  clients: ReconciliationClients = {},
) {
  const given = <T>(client: T | undefined, fallback: () => Promise<T>) =>
    client ? async () => client : fallback;
  return instrumentedHandler(tools, (_event: unknown) =>
    reconcileSpend({
      ...tools,
      cloudwatch: given(clients.cloudwatch, cloudwatch),
      dynamodb: given(clients.dynamodb, dynamodb),
    }),
  );
}

/**
 * Hourly: OpenAI's month-to-date project cost as ActualSpendUsd, raised into the spend ledger, and its
 * drift from the gateway's metered spend.
 */
export const handler = createHandler();
