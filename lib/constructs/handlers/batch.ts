import { CfnElement, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { HandlerEnv } from '../../../runtime/handler-env';
import { SHARED_ACKNOWLEDGMENTS, acknowledge, nag } from '../../acknowledgments';
import { SettingsProblems, isIntegerIn } from '../settings';
import { Handler, HandlerProps, newHandlerFunction } from './handler';
import { HouseFunction } from './house-function';

/** The batch handler's part of `StageConfig.handlers`: how long the batch bucket keeps each prefix. */
export interface BatchSettings {
  /** Days objects under `input/` are kept, at least 1. @default 30 */
  readonly batchInputRetentionDays: number;
  /** Days objects under `output/` are kept, at least 1. @default 90 */
  readonly batchOutputRetentionDays: number;
}

export const DEFAULT_BATCH_SETTINGS: BatchSettings = {
  batchInputRetentionDays: 30,
  batchOutputRetentionDays: 90,
};

/** Records every problem of `settings`. */
export function checkBatchSettings(settings: BatchSettings, problems: SettingsProblems): void {
  for (const field of ['batchInputRetentionDays', 'batchOutputRetentionDays'] as const) {
    problems.expect(
      isIntegerIn(settings[field], 1),
      () => `${problems.field(field)} must be a positive integer, got ${settings[field]}`,
    );
  }
}

/** Prefixes of the batch bucket: callers write `input/`, the batch handler writes `output/`. */
export const BATCH_PREFIXES = { input: 'input/', output: 'output/' } as const;

/** When the batch handler polls the OpenAI batches it submitted. */
export const BATCH_POLL_SCHEDULE = events.Schedule.rate(Duration.minutes(15));

/**
 * The logical IDs the batch handler's stateful resources, and the policies on them, were deployed
 * with while `GatewayHandlers` made them itself (`Handlers/BatchBucket`, `Handlers/BatchJobs`,
 * `Handlers/BatchDeadLetters`). Under this construct their paths changed, and so would their IDs:
 * CloudFormation would replace them with a new, empty bucket, table and queue, and delete the policy
 * of the old bucket or queue after putting the new one on it.
 */
const DEPLOYED_LOGICAL_IDS = {
  bucket: 'HandlersBatchBucket629F36AB',
  bucketPolicy: 'HandlersBatchBucketPolicy8FB1B67C',
  jobsTable: 'HandlersBatchJobs9BE4E0BC',
  deadLetterQueue: 'HandlersBatchDeadLetters0667A223',
  deadLetterQueuePolicy: 'HandlersBatchDeadLettersPolicyE0E4B734',
} as const;

export interface BatchHandlerProps extends HandlerProps {
  readonly settings: BatchSettings;
  /** The OpenAI API key secret the handler calls the Batch API with; it is granted read. */
  readonly apiKeySecret: secretsmanager.ISecret;
  /** Bucket that receives the batch bucket's server access logs. */
  readonly accessLogBucket: s3.IBucket;
}

/**
 * The batch handler (`lambda/batch/`) and its data: it submits each file uploaded under `input/` of
 * the batch bucket to the OpenAI Batch API (S3 events through EventBridge), polls the running batches
 * every 15 minutes, writes results under `output/` and keeps its jobs in a table. Invocations that
 * still fail after Lambda's retries land in a dead-letter queue.
 */
export class BatchHandler extends Handler {
  readonly handler: HouseFunction;
  readonly bucket: s3.Bucket;
  readonly jobsTable: dynamodb.Table;
  /** Batch invocations (uploads, polls) that still failed after Lambda's retries; alarmed when not empty. */
  readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: BatchHandlerProps) {
    super(scope, id);
    const problems = new SettingsProblems();
    checkBatchSettings(props.settings, problems);
    problems.throwIfAny('BatchHandler');
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;

    this.bucket = this.newBucket(props, removalPolicy);
    this.jobsTable = new dynamodb.Table(this, 'Jobs', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: props.encryptionKey,
      removalPolicy,
    });
    acknowledge(this.jobsTable, SHARED_ACKNOWLEDGMENTS.pitrInsteadOfBackupPlan);
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetters', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: props.encryptionKey,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      // A dead-letter queue of Lambda, never of another queue.
      redriveAllowPolicy: { redrivePermission: sqs.RedrivePermission.DENY_ALL },
      removalPolicy,
    });
    acknowledge(this.deadLetterQueue, SHARED_ACKNOWLEDGMENTS.deadLetterQueueItself);
    this.keepDeployedLogicalIds();

    this.handler = newHandlerFunction(this, props, {
      handlerName: 'batch',
      description: 'submits uploaded batch files to the OpenAI Batch API and collects results',
      purpose: 'submitting and collecting Batch API jobs',
      // Batch validates whole JSONL files (up to OpenAI's 200 MB batch input) in memory before submitting them.
      timeout: Duration.minutes(10),
      memoryMiB: 1024,
      environment: {
        [HandlerEnv.openaiApiKeySecretArn]: props.apiKeySecret.secretArn,
        [HandlerEnv.batchBucket]: this.bucket.bucketName,
        [HandlerEnv.batchJobsTable]: this.jobsTable.tableName,
        [HandlerEnv.gatewayConfigJson]: JSON.stringify(props.gatewayConfig),
      },
      deadLetterQueue: this.deadLetterQueue,
    });
    props.apiKeySecret.grantRead(this.handler.role);
    this.grantData(this.handler.role, props);
    this.addTriggers(props.stage);
  }

  private newBucket(props: BatchHandlerProps, removalPolicy: RemovalPolicy): s3.Bucket {
    const bucket = new s3.Bucket(this, 'Bucket', {
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: props.encryptionKey,
      bucketKeyEnabled: true,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: props.accessLogBucket,
      serverAccessLogsPrefix: 'batch-bucket/',
      // An overwritten or deleted upload stays recoverable for a day (noncurrent versions expire then).
      versioned: true,
      removalPolicy,
      lifecycleRules: [
        {
          id: 'expire-input',
          prefix: BATCH_PREFIXES.input,
          expiration: Duration.days(props.settings.batchInputRetentionDays),
        },
        {
          id: 'expire-output',
          prefix: BATCH_PREFIXES.output,
          expiration: Duration.days(props.settings.batchOutputRetentionDays),
        },
        { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
        {
          id: 'expire-noncurrent-versions',
          noncurrentVersionExpiration: Duration.days(1),
          expiredObjectDeleteMarker: true,
        },
      ],
    });
    acknowledge(bucket, SHARED_ACKNOWLEDGMENTS.noReplication);
    acknowledge(bucket, SHARED_ACKNOWLEDGMENTS.noObjectLock);
    return bucket;
  }

  /** See `DEPLOYED_LOGICAL_IDS`. */
  private keepDeployedLogicalIds(): void {
    const defaultChild = (c: Construct): CfnElement => c.node.defaultChild as CfnElement;
    defaultChild(this.bucket).overrideLogicalId(DEPLOYED_LOGICAL_IDS.bucket);
    defaultChild(this.bucket.policy!).overrideLogicalId(DEPLOYED_LOGICAL_IDS.bucketPolicy);
    defaultChild(this.jobsTable).overrideLogicalId(DEPLOYED_LOGICAL_IDS.jobsTable);
    defaultChild(this.deadLetterQueue).overrideLogicalId(DEPLOYED_LOGICAL_IDS.deadLetterQueue);
    defaultChild(this.deadLetterQueue.node.findChild('Policy') as Construct).overrideLogicalId(
      DEPLOYED_LOGICAL_IDS.deadLetterQueuePolicy,
    );
  }

  /**
   * What the batch handler does with its data, and no more: read `input/`, write `output/`, and get,
   * put, update and scan job items; plus the key that encrypts both.
   */
  private grantData(role: iam.IRole, props: BatchHandlerProps): void {
    const bucketArn = this.bucket.bucketArn;
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObject'],
        resources: [`${bucketArn}/${BATCH_PREFIXES.input}*`],
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['s3:PutObject'],
        resources: [`${bucketArn}/${BATCH_PREFIXES.output}*`],
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Scan'],
        resources: [this.jobsTable.tableArn],
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey', 'kms:DescribeKey'],
        resources: [props.encryptionKey.keyArn],
      }),
    );
    const bucketLogicalId = Stack.of(this).resolve((this.bucket.node.defaultChild as CfnElement).logicalId);
    for (const prefix of Object.values(BATCH_PREFIXES)) {
      Validations.of(role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${bucketLogicalId}.Arn>/${prefix}*]`,
        reason: `Object ARNs under ${prefix} of the batch bucket: the handler reads uploads it cannot name in advance and writes results next to them.`,
      });
    }
  }

  /** `input/` uploads through EventBridge, and the poll schedule. */
  private addTriggers(stage: string): void {
    // S3 sends Object Created events to EventBridge: no notification custom resource, no permission cycle.
    (this.bucket.node.defaultChild as s3.CfnBucket).notificationConfiguration = {
      eventBridgeConfiguration: { eventBridgeEnabled: true },
    };
    const inputCreated = new events.Rule(this, 'InputCreated', {
      description: `${stage}: submits each file uploaded under ${BATCH_PREFIXES.input}`,
      eventPattern: {
        source: ['aws.s3'],
        detailType: ['Object Created'],
        detail: {
          bucket: { name: [this.bucket.bucketName] },
          object: { key: [{ prefix: BATCH_PREFIXES.input }] },
        },
      },
      targets: [new targets.LambdaFunction(this.handler.function, { retryAttempts: 2 })],
    });
    acknowledge(inputCreated, {
      ids: nag('EventBusDLQ', 'serverless'),
      reason:
        "EventBridge hands the event to Lambda's asynchronous queue, which accepts it unless the function is gone; what fails after that (the handler's errors, after Lambda's retries) lands in the batch dead-letter queue, which is alarmed (BatchDeadLetters).",
    });
    const pollSchedule = new events.Rule(this, 'PollSchedule', {
      description: `${stage}: polls running OpenAI batches`,
      schedule: BATCH_POLL_SCHEDULE,
      targets: [new targets.LambdaFunction(this.handler.function, { retryAttempts: 0 })],
    });
    acknowledge(pollSchedule, SHARED_ACKNOWLEDGMENTS.scheduleWithoutDlq);
  }
}
