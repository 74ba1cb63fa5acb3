import { parseGatewayConfig, type GatewayConfig } from '../../runtime/gateway-config';
import { HandlerEnv } from '../../runtime/handler-env';
import { createOpenAIClient } from '../../runtime/openai-client';
import { createHandlerTools, instrumentedHandler, type HandlerTools } from '../../runtime/powertools';
import { HandlerConfigError, requiredEnv } from '../shared/env';
import { dynamoDbSdk, s3Sdk } from '../shared/aws-sdk';
import { lazy } from '../shared/lazy';
import { runBatch } from './run';
import { BatchJobs } from './jobs';

const s3 = lazy(async () => new (s3Sdk().S3Client)({}));
const dynamodb = lazy(async () => new (dynamoDbSdk().DynamoDBClient)({}));
let config: GatewayConfig | undefined;

function gatewayConfig(): GatewayConfig {
  if (!config) {
    let doc: unknown;
    try {
      doc = JSON.parse(requiredEnv(HandlerEnv.gatewayConfigJson));
    } catch (err) {
      if (err instanceof HandlerConfigError) throw err;
      throw new HandlerConfigError(`${HandlerEnv.gatewayConfigJson} is not valid JSON`);
    }
    config = parseGatewayConfig(doc);
  }
  return config;
}

/** The handler over `tools` (tests pass their own clock). */
export function createHandler(tools: HandlerTools = createHandlerTools()) {
  return instrumentedHandler(tools, (event: unknown) =>
    runBatch(event, {
      ...tools,
      s3,
      jobs: new BatchJobs(dynamodb, requiredEnv(HandlerEnv.batchJobsTable)),
      bucket: requiredEnv(HandlerEnv.batchBucket),
      config: gatewayConfig,
      openai: () => createOpenAIClient({ timeoutMs: 60_000, maxRetries: 2 }),
    }),
  );
}

/** Batch API handler: S3 "object created" under `input/` submits; a schedule (or `{"action":"poll"}`) collects. */
export const handler = createHandler();
