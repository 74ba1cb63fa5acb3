import { Match } from 'aws-cdk-lib/assertions';
import {
  BatchHandler,
  BatchSettings,
  DEFAULT_BATCH_SETTINGS,
  checkBatchSettings,
} from '../../../../lib/constructs/handlers/batch';
import { SettingsProblems } from '../../../../lib/constructs/settings';
import { HandlerEnv } from '../../../../runtime/handler-env';
import { constructStack, onlyResource, resourcesOf, Synthesized } from '../../synth';
import {
  API_KEY_SECRET_ARN,
  GATEWAY_CONFIG,
  KEY_ARN,
  actionsOf,
  expectHandlerFunction,
  handlerProps,
  importedDependencies,
  synthHandler,
  policyStatements,
} from './handler-props';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Json = Record<string, any>;

const SETTINGS: BatchSettings = { batchInputRetentionDays: 7, batchOutputRetentionDays: 14 };

describe('BatchHandler', () => {
  let s: Synthesized;
  beforeAll(() => {
    s = synthHandler((stack, props) => new BatchHandler(stack, 'Batch', { ...props, settings: SETTINGS }));
  });

  const functionId = (): string => onlyResource(s, 'AWS::Lambda::Function')[0];
  const bucketId = (): string => onlyResource(s, 'AWS::S3::Bucket')[0];
  const queueId = (): string => onlyResource(s, 'AWS::SQS::Queue')[0];

  it('keeps the logical IDs its bucket, table and dead-letter queue (and their policies) were deployed with', () => {
    expect(bucketId()).toBe('HandlersBatchBucket629F36AB');
    expect(onlyResource(s, 'AWS::S3::BucketPolicy')[0]).toBe('HandlersBatchBucketPolicy8FB1B67C');
    expect(onlyResource(s, 'AWS::DynamoDB::Table')[0]).toBe('HandlersBatchJobs9BE4E0BC');
    expect(queueId()).toBe('HandlersBatchDeadLetters0667A223');
    expect(onlyResource(s, 'AWS::SQS::QueuePolicy')[0]).toBe('HandlersBatchDeadLettersPolicyE0E4B734');
  });

  it('runs the batch handler on the newest Node.js, ARM64, traced, with its own log group', () => {
    expectHandlerFunction(s, onlyResource(s, 'AWS::Lambda::Function')[1].Properties);
  });

  it('gives the batch handler the environment of its contract', () => {
    const variables = onlyResource(s, 'AWS::Lambda::Function')[1].Properties.Environment.Variables;
    expect(variables).toMatchObject({
      [HandlerEnv.openaiApiKeySecretArn]: API_KEY_SECRET_ARN,
      [HandlerEnv.batchBucket]: { Ref: bucketId() },
      [HandlerEnv.batchJobsTable]: { Ref: onlyResource(s, 'AWS::DynamoDB::Table')[0] },
      POWERTOOLS_SERVICE_NAME: 'batch',
    });
    expect(JSON.parse(variables[HandlerEnv.gatewayConfigJson]).stage).toBe(GATEWAY_CONFIG.stage);
    expect(variables).not.toHaveProperty(HandlerEnv.openaiAdminKeySecretArn);
  });

  it('sends batch input uploads to the batch handler through EventBridge', () => {
    s.template.hasResourceProperties('AWS::S3::Bucket', {
      NotificationConfiguration: { EventBridgeConfiguration: { EventBridgeEnabled: true } },
    });
    s.template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.s3'],
        'detail-type': ['Object Created'],
        detail: { bucket: { name: [{ Ref: bucketId() }] }, object: { key: [{ prefix: 'input/' }] } },
      },
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [functionId(), 'Arn'] } })],
    });
  });

  it('polls the running batches every 15 minutes', () => {
    s.template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(15 minutes)',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [functionId(), 'Arn'] } })],
    });
  });

  it('encrypts the batch bucket with the stage key, requires TLS and expires objects', () => {
    s.template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          {
            ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: KEY_ARN },
            BucketKeyEnabled: true,
          },
        ],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({
            Prefix: 'input/',
            ExpirationInDays: SETTINGS.batchInputRetentionDays,
            Status: 'Enabled',
          }),
          Match.objectLike({
            Prefix: 'output/',
            ExpirationInDays: SETTINGS.batchOutputRetentionDays,
            Status: 'Enabled',
          }),
        ]),
      },
    });
    expect(onlyResource(s, 'AWS::S3::BucketPolicy')[1].Properties.PolicyDocument.Statement).toContainEqual(
      expect.objectContaining({
        Effect: 'Deny',
        Action: 's3:*',
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      }),
    );
  });

  it('versions the batch bucket and expires its noncurrent versions after a day', () => {
    const bucket = s.json.Resources[bucketId()].Properties;
    expect(bucket.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    expect(bucket.LifecycleConfiguration.Rules).toContainEqual(
      expect.objectContaining({ NoncurrentVersionExpiration: { NoncurrentDays: 1 }, Status: 'Enabled' }),
    );
  });

  it('keeps batch jobs in an encrypted on-demand table with point-in-time recovery', () => {
    s.template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: KEY_ARN },
    });
  });

  it('lets the batch handler read input/, write output/ and use its table, nothing more', () => {
    const bucket = bucketId();
    const statements = policyStatements(s);
    const s3Statements = statements.filter((st) => actionsOf(st).some((a) => a.startsWith('s3:')));
    expect(s3Statements.map((st) => [actionsOf(st), st.Resource])).toEqual([
      [['s3:GetObject'], { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucket, 'Arn'] }, '/input/*']] }],
      [['s3:PutObject'], { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucket, 'Arn'] }, '/output/*']] }],
    ]);
    const dynamo = statements.filter((st) => actionsOf(st).some((a) => a.startsWith('dynamodb:')));
    expect(dynamo.flatMap(actionsOf).sort()).toEqual([
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Scan',
      'dynamodb:UpdateItem',
    ]);
  });

  it('sends failed batch invocations to an encrypted, TLS-only dead-letter queue', () => {
    const queue = queueId();
    expect(s.json.Resources[queue].Properties.KmsMasterKeyId).toBe(KEY_ARN);
    expect(s.json.Resources[functionId()].Properties.DeadLetterConfig).toEqual({
      TargetArn: { 'Fn::GetAtt': [queue, 'Arn'] },
    });
    const [, queuePolicy] = onlyResource(s, 'AWS::SQS::QueuePolicy');
    expect(JSON.stringify(queuePolicy.Properties.Queues)).toContain(queue);
    expect(queuePolicy.Properties.PolicyDocument.Statement).toContainEqual(
      expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    );
  });

  it('names the source of every invoke permission it adds', () => {
    const permissions = resourcesOf(s, 'AWS::Lambda::Permission').map(([, p]) => p.Properties as Json);
    expect(permissions).toHaveLength(2);
    for (const p of permissions) expect(p.SourceArn).toBeDefined();
  });

  describe('settings check', () => {
    const problemsOf = (settings: BatchSettings, at = ''): readonly string[] => {
      const problems = new SettingsProblems(at);
      checkBatchSettings(settings, problems);
      return problems.list;
    };

    it('passes the default settings', () => {
      expect(DEFAULT_BATCH_SETTINGS).toEqual({ batchInputRetentionDays: 30, batchOutputRetentionDays: 90 });
      expect(problemsOf(DEFAULT_BATCH_SETTINGS)).toEqual([]);
    });

    it('reports every problem at once, each field by its path', () => {
      expect(problemsOf({ batchInputRetentionDays: 0, batchOutputRetentionDays: 2.5 }, 'handlers.')).toEqual([
        'handlers.batchInputRetentionDays must be a positive integer, got 0',
        'handlers.batchOutputRetentionDays must be a positive integer, got 2.5',
      ]);
    });

    it('is what the construct runs on its props, before it makes anything', () => {
      const stack = constructStack();
      expect(
        () =>
          new BatchHandler(stack, 'B', {
            ...handlerProps(stack),
            ...importedDependencies(stack),
            settings: { batchInputRetentionDays: -1, batchOutputRetentionDays: 0 },
          }),
      ).toThrow(
        'BatchHandler: 2 problems:\n  - batchInputRetentionDays must be a positive integer, got -1\n  - batchOutputRetentionDays must be a positive integer, got 0',
      );
      expect(stack.node.tryFindChild('B')?.node.children).toHaveLength(0);
    });
  });
});
