import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { S3Client } from '@aws-sdk/client-s3';
import type OpenAI from 'openai';
import type { Clock } from '../../runtime/clock';
import type { GatewayConfig } from '../../runtime/gateway-config';
import type { BatchJobs } from './jobs';

/** What the submit and poll steps work with. */
export interface BatchContext {
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** The S3 client, created on first use. */
  readonly s3: () => Promise<S3Client>;
  readonly jobs: BatchJobs;
  readonly bucket: string;
  /** The gateway's config: models, aliases, prices and request limits. */
  readonly config: () => GatewayConfig;
  /** A project-key OpenAI client. */
  readonly openai: () => Promise<OpenAI>;
  /** Times the job records. */
  readonly clock: Clock;
}
