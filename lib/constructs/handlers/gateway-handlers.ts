import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { GatewayConfig } from '../../../runtime/gateway-config';
import { HandlerEnv, HandlerName } from '../../../runtime/handler-env';
import { SHARED_ACKNOWLEDGMENTS, acknowledge, nag } from '../../acknowledgments';
import { HouseFunction } from './house-function';

/** When each scheduled handler runs. */
export const HANDLER_SCHEDULES = {
  canary: events.Schedule.rate(Duration.minutes(1)),
  spendReconciliation: events.Schedule.rate(Duration.hours(1)),
  batchPoll: events.Schedule.rate(Duration.minutes(15)),
} as const;

/** Prefixes of the batch bucket: callers write `input/`, the batch handler writes `output/`. */
export const BATCH_PREFIXES = { input: 'input/', output: 'output/' } as const;

/** Timeout and memory of each handler. */
export const HANDLER_SIZES: Readonly<Record<HandlerName, { timeout: Duration; memoryMiB: number }>> = {
  canary: { timeout: Duration.seconds(30), memoryMiB: 256 },
  'spend-reconciliation': { timeout: Duration.minutes(2), memoryMiB: 256 },
  'key-rotation': { timeout: Duration.minutes(2), memoryMiB: 256 },
  // Batch validates whole JSONL files (up to OpenAI's 200 MB batch input) in memory before submitting them.
  batch: { timeout: Duration.minutes(10), memoryMiB: 1024 },
};

export interface GatewayHandlersProps {
  /** Stage name (`STAGE`, the metric dimension). */
  readonly stage: string;
  /** Folder with one `<handler>/index.ts` per handler (the repo's `lambda/`). */
  readonly lambdaRoot: string;
  /** The validated gateway document (the batch handler applies the same models and limits). */
  readonly gatewayConfig: GatewayConfig;
  /** Real model or alias the canary calls. */
  readonly canaryModel: string;
  /**
   * Upstream base URL including `/v1`.
   * @default 'https://api.openai.com/v1'
   */
  readonly openaiBaseUrl?: string;
  readonly apiKeySecret: secretsmanager.Secret;
  readonly adminKeySecret: secretsmanager.ISecret;
  /**
   * Name of the stage's spend ledger table, which reconciliation raises to OpenAI's billed cost; the
   * caller grants the role (`SpendLedger.grantReconciliation`).
   */
  readonly spendLedgerTableName: string;
  /** Key of the stage's secrets and data; encrypts the batch bucket, table, dead-letter queue and the log groups too. */
  readonly encryptionKey: kms.IKey;
  /** Days between rotations of the API key secret. */
  readonly keyRotationDays: number;
  readonly batchInputRetentionDays: number;
  readonly batchOutputRetentionDays: number;
  /** Bucket that receives the batch bucket's server access logs. */
  readonly accessLogBucket: s3.IBucket;
  readonly logRetention: logs.RetentionDays;
  /**
   * What happens to the batch bucket, table and log groups when the stack is deleted.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The four Lambda handlers and what triggers them: the canary every minute, spend reconciliation every
 * hour, key rotation as the API key secret's rotation function, and batch on `input/` uploads to the
 * batch bucket plus a 15-minute poll. Each role gets only the secrets and data its handler uses.
 */
export class GatewayHandlers extends Construct {
  readonly canary: HouseFunction;
  readonly spendReconciliation: HouseFunction;
  readonly keyRotation: HouseFunction;
  readonly batch: HouseFunction;
  readonly batchBucket: s3.Bucket;
  readonly batchJobsTable: dynamodb.Table;
  /** Batch invocations (uploads, polls) that still failed after Lambda's retries; alarmed when not empty. */
  readonly batchDeadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: GatewayHandlersProps) {
    super(scope, id);
    if (
      !Number.isInteger(props.keyRotationDays) ||
      props.keyRotationDays < 1 ||
      props.keyRotationDays > 1000
    ) {
      throw new Error(
        `GatewayHandlers: keyRotationDays must be an integer from 1 to 1000, got ${props.keyRotationDays}`,
      );
    }
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const upstream = props.gatewayConfig.upstream;
    const openaiEnv: Record<string, string> = {
      [HandlerEnv.stage]: props.stage,
      [HandlerEnv.openaiBaseUrl]: props.openaiBaseUrl ?? 'https://api.openai.com/v1',
      ...(upstream.organization ? { [HandlerEnv.openaiOrganization]: upstream.organization } : {}),
      ...(upstream.project ? { [HandlerEnv.openaiProject]: upstream.project } : {}),
    };
    const make = (
      id: string,
      handlerName: HandlerName,
      { description, purpose }: { description: string; purpose: string },
      environment: Record<string, string>,
      wildcardResourceActions?: string[],
      deadLetterQueue?: sqs.IQueue,
    ): HouseFunction =>
      new HouseFunction(this, id, {
        lambdaRoot: props.lambdaRoot,
        handlerName,
        description: `${props.stage}: ${description}`,
        purpose,
        ...HANDLER_SIZES[handlerName],
        environment: { ...openaiEnv, ...environment },
        logRetention: props.logRetention,
        logKey: props.encryptionKey,
        removalPolicy,
        wildcardResourceActions,
        deadLetterQueue,
      });

    this.canary = make(
      'Canary',
      'canary',
      {
        description: 'calls OpenAI once a minute and records success, latency and time to first token',
        purpose: 'the once-a-minute canary call to OpenAI',
      },
      {
        [HandlerEnv.openaiApiKeySecretArn]: props.apiKeySecret.secretArn,
        [HandlerEnv.canaryModel]: props.canaryModel,
      },
    );
    props.apiKeySecret.grantRead(this.canary.role);
    acknowledge(this.canary.function, SHARED_ACKNOWLEDGMENTS.lambdaRetriedBySchedule);
    const canarySchedule = new events.Rule(this, 'CanarySchedule', {
      description: `${props.stage}: runs the canary`,
      schedule: HANDLER_SCHEDULES.canary,
      targets: [
        new targets.LambdaFunction(this.canary.function, {
          retryAttempts: 0,
          maxEventAge: Duration.minutes(1),
        }),
      ],
    });
    acknowledge(canarySchedule, SHARED_ACKNOWLEDGMENTS.scheduleWithoutDlq);

    this.spendReconciliation = make(
      'SpendReconciliation',
      'spend-reconciliation',
      {
        description:
          "compares the gateway's metered spend with OpenAI's costs API and raises the spend ledger to it",
        purpose: "the hourly comparison of metered spend with OpenAI's costs",
      },
      {
        [HandlerEnv.openaiAdminKeySecretArn]: props.adminKeySecret.secretArn,
        [HandlerEnv.spendLedgerTable]: props.spendLedgerTableName,
      },
      ['cloudwatch:GetMetricData'],
    );
    props.adminKeySecret.grantRead(this.spendReconciliation.role);
    this.spendReconciliation.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['cloudwatch:GetMetricData'], resources: ['*'] }),
    );
    acknowledge(this.spendReconciliation.function, SHARED_ACKNOWLEDGMENTS.lambdaRetriedBySchedule);
    const reconciliationSchedule = new events.Rule(this, 'SpendReconciliationSchedule', {
      description: `${props.stage}: runs spend reconciliation`,
      schedule: HANDLER_SCHEDULES.spendReconciliation,
      targets: [new targets.LambdaFunction(this.spendReconciliation.function, { retryAttempts: 2 })],
    });
    acknowledge(reconciliationSchedule, SHARED_ACKNOWLEDGMENTS.scheduleWithoutDlq);

    this.keyRotation = make(
      'KeyRotation',
      'key-rotation',
      {
        description: 'rotates the OpenAI project key in the API key secret',
        purpose: 'rotating the OpenAI project key',
      },
      {
        [HandlerEnv.openaiApiKeySecretArn]: props.apiKeySecret.secretArn,
        [HandlerEnv.openaiAdminKeySecretArn]: props.adminKeySecret.secretArn,
      },
      ['secretsmanager:GetRandomPassword'],
    );
    props.adminKeySecret.grantRead(this.keyRotation.role);
    // The schedule grants the rotation steps (Describe/Get/Put/UpdateSecretVersionStage) on this secret and its key.
    props.apiKeySecret.addRotationSchedule('Rotation', {
      rotationLambda: this.keyRotation.function,
      automaticallyAfter: Duration.days(props.keyRotationDays),
      // The secret starts empty: the first rotation waits for the operator's first value and the schedule.
      rotateImmediatelyOnUpdate: false,
    });
    this.allowInvocationOnlyByRotationOf(props.apiKeySecret);
    acknowledge(this.keyRotation.function, {
      ids: nag('LambdaDLQ', 'nist', 'hipaa', 'serverless'),
      reason:
        'Secrets Manager invokes the rotation function synchronously, step by step, and keeps the secret on its current version when a step fails (retrying at the next rotation); a dead-letter queue only receives asynchronous invocations, so it would never hold anything. Failures are alarmed by KeyRotationErrors.',
    });

    this.batchBucket = new s3.Bucket(this, 'BatchBucket', {
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
          expiration: Duration.days(props.batchInputRetentionDays),
        },
        {
          id: 'expire-output',
          prefix: BATCH_PREFIXES.output,
          expiration: Duration.days(props.batchOutputRetentionDays),
        },
        { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
        {
          id: 'expire-noncurrent-versions',
          noncurrentVersionExpiration: Duration.days(1),
          expiredObjectDeleteMarker: true,
        },
      ],
    });
    acknowledge(this.batchBucket, SHARED_ACKNOWLEDGMENTS.noReplication);
    acknowledge(this.batchBucket, SHARED_ACKNOWLEDGMENTS.noObjectLock);
    this.batchJobsTable = new dynamodb.Table(this, 'BatchJobs', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: props.encryptionKey,
      removalPolicy,
    });
    acknowledge(this.batchJobsTable, SHARED_ACKNOWLEDGMENTS.pitrInsteadOfBackupPlan);

    this.batchDeadLetterQueue = new sqs.Queue(this, 'BatchDeadLetters', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: props.encryptionKey,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      // A dead-letter queue of Lambda, never of another queue.
      redriveAllowPolicy: { redrivePermission: sqs.RedrivePermission.DENY_ALL },
      removalPolicy,
    });
    acknowledge(this.batchDeadLetterQueue, SHARED_ACKNOWLEDGMENTS.deadLetterQueueItself);

    this.batch = make(
      'Batch',
      'batch',
      {
        description: 'submits uploaded batch files to the OpenAI Batch API and collects results',
        purpose: 'submitting and collecting Batch API jobs',
      },
      {
        [HandlerEnv.openaiApiKeySecretArn]: props.apiKeySecret.secretArn,
        [HandlerEnv.batchBucket]: this.batchBucket.bucketName,
        [HandlerEnv.batchJobsTable]: this.batchJobsTable.tableName,
        [HandlerEnv.gatewayConfigJson]: JSON.stringify(props.gatewayConfig),
      },
      undefined,
      this.batchDeadLetterQueue,
    );
    props.apiKeySecret.grantRead(this.batch.role);
    this.grantBatchData(this.batch.role, props.encryptionKey);
    // S3 sends Object Created events to EventBridge: no notification custom resource, no permission cycle.
    (this.batchBucket.node.defaultChild as s3.CfnBucket).notificationConfiguration = {
      eventBridgeConfiguration: { eventBridgeEnabled: true },
    };
    const inputCreated = new events.Rule(this, 'BatchInputCreated', {
      description: `${props.stage}: submits each file uploaded under ${BATCH_PREFIXES.input}`,
      eventPattern: {
        source: ['aws.s3'],
        detailType: ['Object Created'],
        detail: {
          bucket: { name: [this.batchBucket.bucketName] },
          object: { key: [{ prefix: BATCH_PREFIXES.input }] },
        },
      },
      targets: [new targets.LambdaFunction(this.batch.function, { retryAttempts: 2 })],
    });
    acknowledge(inputCreated, {
      ids: nag('EventBusDLQ', 'serverless'),
      reason:
        "EventBridge hands the event to Lambda's asynchronous queue, which accepts it unless the function is gone; what fails after that (the handler's errors, after Lambda's retries) lands in the batch dead-letter queue, which is alarmed (BatchDeadLetters).",
    });
    const pollSchedule = new events.Rule(this, 'BatchPollSchedule', {
      description: `${props.stage}: polls running OpenAI batches`,
      schedule: HANDLER_SCHEDULES.batchPoll,
      targets: [new targets.LambdaFunction(this.batch.function, { retryAttempts: 0 })],
    });
    acknowledge(pollSchedule, SHARED_ACKNOWLEDGMENTS.scheduleWithoutDlq);
  }

  /** Every handler, for alarms and dashboards. */
  get all(): readonly HouseFunction[] {
    return [this.canary, this.spendReconciliation, this.keyRotation, this.batch];
  }

  /**
   * Secrets Manager may invoke the rotation function only to rotate `secret` of this account: the
   * permission `addRotationSchedule` adds names the service principal alone, so without a source any
   * account's secret could have Secrets Manager invoke it (a confused deputy).
   */
  private allowInvocationOnlyByRotationOf(secret: secretsmanager.ISecret): void {
    const permissions = this.keyRotation.function.node.children.filter(
      (child): child is lambda.CfnPermission => child instanceof lambda.CfnPermission,
    );
    if (permissions.length !== 1)
      throw new Error(`GatewayHandlers: expected one rotation permission, found ${permissions.length}`);
    permissions[0].sourceAccount = Stack.of(this).account;
    permissions[0].sourceArn = secret.secretArn;
  }

  /**
   * What the batch handler does with its data, and no more: read `input/`, write `output/`, and get,
   * put, update and scan job items; plus the key that encrypts both.
   */
  private grantBatchData(role: iam.IRole, key: kms.IKey): void {
    const bucketArn = this.batchBucket.bucketArn;
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
        resources: [this.batchJobsTable.tableArn],
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey', 'kms:DescribeKey'],
        resources: [key.keyArn],
      }),
    );
    for (const prefix of Object.values(BATCH_PREFIXES)) {
      Validations.of(role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(this.batchBucket.node.defaultChild as s3.CfnBucket)}.Arn>/${prefix}*]`,
        reason: `Object ARNs under ${prefix} of the batch bucket: the handler reads uploads it cannot name in advance and writes results next to them.`,
      });
    }
  }
}
