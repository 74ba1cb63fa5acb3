import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { APPLICATION, productionConfig, RUNBOOK_URL, stagingConfig, StageConfig } from '../../../lib/config';
import { GatewayEnv } from '../../../runtime/gateway-env';
import { HandlerEnv } from '../../../runtime/handler-env';
import { logicalId, onlyResource, resourcesOf, SynthesizedStage, synthStages } from '../synth';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Json = Record<string, any>;

let staging: SynthesizedStage;
let production: SynthesizedStage;

beforeAll(() => {
  // One app, both stages, every compliance pack on: synth throws on any unacknowledged finding.
  [staging, production] = synthStages(stagingConfig, productionConfig);
});

const both = (): [string, SynthesizedStage, StageConfig][] => [
  ['Staging', staging, stagingConfig],
  ['Production', production, productionConfig],
];

/** Every IAM policy statement of the template, wherever it sits. */
const policyStatements = (s: SynthesizedStage): Json[] =>
  resourcesOf(s, 'AWS::IAM::Policy').flatMap(([, r]) => r.Properties.PolicyDocument.Statement as Json[]);

const actionsOf = (statement: Json): string[] => [statement.Action].flat();

describe.each([
  ['Staging', () => staging, stagingConfig],
  ['Production', () => production, productionConfig],
] as const)('%s stage', (_name, get, config) => {
  let s: SynthesizedStage;
  beforeAll(() => {
    s = get();
  });

  it('deploys to the account and region of its config', () => {
    expect(s.stage.account).toBe(config.env.account);
    expect(s.stage.region).toBe(config.env.region);
    expect(s.stage.gatewayStack.stackName).toBe(`${config.name}-Gateway`);
  });

  describe('secrets (their own tests are in test/lib/constructs/secrets.test.ts)', () => {
    it('rotates the API key secret with the key-rotation handler every configured number of days', () => {
      s.template.hasResourceProperties('AWS::SecretsManager::RotationSchedule', {
        SecretId: { Ref: logicalId(s, 'AWS::SecretsManager::Secret', 'SecretsOpenAIApiKey') },
        RotationLambdaARN: {
          'Fn::GetAtt': [logicalId(s, 'AWS::Lambda::Function', 'HandlersKeyRotation'), 'Arn'],
        },
        RotationRules: { ScheduleExpression: `rate(${config.handlers.keyRotationDays} days)` },
        RotateImmediatelyOnUpdate: false,
      });
    });

    it('denies reading each secret to every principal but the stage roles that use it', () => {
      const readers = (secretPrefix: string): Json[] => {
        const secretId = logicalId(s, 'AWS::SecretsManager::Secret', secretPrefix);
        const policy = resourcesOf(s, 'AWS::SecretsManager::ResourcePolicy').find(
          ([, r]) => r.Properties.SecretId.Ref === secretId,
        );
        expect(policy).toBeDefined();
        const deny = (policy![1].Properties.ResourcePolicy.Statement as Json[]).find(
          (st) => st.Sid === 'OnlyTheStageRuntimesReadTheValue',
        );
        expect(deny).toMatchObject({
          Effect: 'Deny',
          Principal: { AWS: '*' },
          Action: 'secretsmanager:GetSecretValue',
        });
        return deny!.Condition.ArnNotEquals['aws:PrincipalArn'];
      };
      const role = (prefix: string): Json => ({
        'Fn::GetAtt': [logicalId(s, 'AWS::IAM::Role', prefix), 'Arn'],
      });
      const taskRole = role('GatewayTaskTaskRole');
      expect(readers('SecretsOpenAIApiKey')).toEqual([
        taskRole,
        role('HandlersCanaryRole'),
        role('HandlersKeyRotationRole'),
        role('HandlersBatchRole'),
      ]);
      expect(readers('SecretsOpenAIAdminKey')).toEqual([
        role('HandlersSpendReconciliationRole'),
        role('HandlersKeyRotationRole'),
      ]);
      expect(readers('SecretsRedisAuth')).toEqual([
        taskRole,
        {
          'Fn::Sub': `arn:\${AWS::Partition}:iam::${config.env.account}:role/cdk-hnb659fds-cfn-exec-role-${config.env.account}-${config.env.region}`,
        },
      ]);
    });

    it('grants GetSecretValue only on its own secrets, never on a wildcard', () => {
      const ownSecrets = resourcesOf(s, 'AWS::SecretsManager::Secret').map(([id]) => ({ Ref: id }));
      const reads = policyStatements(s).filter((st) =>
        actionsOf(st).includes('secretsmanager:GetSecretValue'),
      );
      expect(reads.length).toBeGreaterThanOrEqual(5);
      for (const resource of reads.flatMap((st) => [st.Resource].flat()))
        expect(ownSecrets).toContainEqual(resource);
    });
  });

  describe('cache (its own tests are in test/lib/constructs/cache.test.ts)', () => {
    let group: Json;
    beforeAll(() => {
      group = onlyResource(s, 'AWS::ElastiCache::ReplicationGroup')[1];
    });

    it("encrypts at rest with the stage key and takes its AUTH token from the stage's secret", () => {
      expect(group.Properties.KmsKeyId).toEqual({
        'Fn::GetAtt': [logicalId(s, 'AWS::KMS::Key', 'SecretsKey'), 'Arn'],
      });
      expect(group.Properties.AuthToken).toEqual({
        'Fn::Join': [
          '',
          [
            '{{resolve:secretsmanager:',
            { Ref: logicalId(s, 'AWS::SecretsManager::Secret', 'SecretsRedisAuth') },
            ':SecretString:authToken}}',
          ],
        ],
      });
    });

    it('pages when a node nears its memory limit', () => {
      const alarm = resourcesOf(s, 'AWS::CloudWatch::Alarm').find(([, a]) =>
        JSON.stringify(a.Properties.Metrics ?? []).includes('DatabaseMemoryUsagePercentage'),
      );
      expect(alarm?.[1].Properties).toMatchObject({ Threshold: 80 });
    });

    it('accepts connections only from the gateway tasks, on the cache port', () => {
      const cacheSg = logicalId(s, 'AWS::EC2::SecurityGroup', 'CacheSecurityGroup');
      const ingress = resourcesOf(s, 'AWS::EC2::SecurityGroupIngress').filter(
        ([, r]) => r.Properties.GroupId['Fn::GetAtt'][0] === cacheSg,
      );
      expect(ingress).toHaveLength(1);
      expect(ingress[0][1].Properties).toMatchObject({
        FromPort: 6380,
        ToPort: 6380,
        SourceSecurityGroupId: {
          'Fn::GetAtt': [logicalId(s, 'AWS::EC2::SecurityGroup', 'GatewayServiceSecurityGroup'), 'GroupId'],
        },
      });
    });
  });

  describe('gateway service (its own tests are in test/lib/constructs/gateway-service.test.ts)', () => {
    let container: Json;
    beforeAll(() => {
      container = onlyResource(s, 'AWS::ECS::TaskDefinition')[1].Properties.ContainerDefinitions[0];
    });
    const env = (name: string): unknown =>
      (container.Environment as Json[]).find((e) => e.Name === name)?.Value;

    it("gets the stage's secrets, cache and spend ledger as environment", () => {
      expect(env(GatewayEnv.openaiApiKeySecretArn)).toEqual({
        Ref: logicalId(s, 'AWS::SecretsManager::Secret', 'SecretsOpenAIApiKey'),
      });
      expect(env(GatewayEnv.redisAuthSecretArn)).toEqual({
        Ref: logicalId(s, 'AWS::SecretsManager::Secret', 'SecretsRedisAuth'),
      });
      const group = logicalId(s, 'AWS::ElastiCache::ReplicationGroup', 'CacheReplicationGroup');
      expect(env(GatewayEnv.redisUrl)).toEqual({
        'Fn::Join': [
          '',
          [
            'rediss://',
            { 'Fn::GetAtt': [group, 'PrimaryEndPoint.Address'] },
            ':',
            { 'Fn::GetAtt': [group, 'PrimaryEndPoint.Port'] },
          ],
        ],
      });
      expect(env(GatewayEnv.spendLedgerTable)).toEqual({
        Ref: logicalId(s, 'AWS::DynamoDB::Table', 'SpendLedgerTable'),
      });
      expect(JSON.parse(env(GatewayEnv.configJson) as string).stage).toBe(config.name);
    });

    it('lets the task role read only the API key and cache token secrets of its stage', () => {
      const taskRole = logicalId(s, 'AWS::IAM::Role', 'GatewayTaskTaskRole');
      const policy = resourcesOf(s, 'AWS::IAM::Policy').find(([, r]) =>
        r.Properties.Roles.some((ref: Json) => ref.Ref === taskRole),
      );
      const secretReads = (policy![1].Properties.PolicyDocument.Statement as Json[]).filter((st) =>
        actionsOf(st).includes('secretsmanager:GetSecretValue'),
      );
      expect(secretReads.flatMap((st) => [st.Resource].flat())).toEqual([
        { Ref: logicalId(s, 'AWS::SecretsManager::Secret', 'SecretsOpenAIApiKey') },
        { Ref: logicalId(s, 'AWS::SecretsManager::Secret', 'SecretsRedisAuth') },
      ]);
    });

    it("lets the task role UpdateItem and Query its stage's spend ledger table only", () => {
      const taskRole = logicalId(s, 'AWS::IAM::Role', 'GatewayTaskTaskRole');
      const statements = resourcesOf(s, 'AWS::IAM::Policy')
        .filter(([, r]) => r.Properties.Roles.some((ref: Json) => ref.Ref === taskRole))
        .flatMap(([, r]) => r.Properties.PolicyDocument.Statement as Json[]);
      const dynamo = statements.filter((st) => actionsOf(st).some((a) => a.startsWith('dynamodb:')));
      expect(dynamo.map((st) => [actionsOf(st).sort(), st.Resource])).toEqual([
        [
          ['dynamodb:Query', 'dynamodb:UpdateItem'],
          { 'Fn::GetAtt': [logicalId(s, 'AWS::DynamoDB::Table', 'SpendLedgerTable'), 'Arn'] },
        ],
      ]);
    });
  });

  it('keeps every log group for the configured retention', () => {
    for (const [, group] of resourcesOf(s, 'AWS::Logs::LogGroup')) {
      expect(group.Properties.RetentionInDays).toBe(config.logRetentionDays);
    }
  });

  it('requires TLS on every bucket', () => {
    const policies = resourcesOf(s, 'AWS::S3::BucketPolicy');
    expect(policies.length).toBeGreaterThanOrEqual(2); // access logs, batch
    for (const [, policy] of policies) {
      expect(policy.Properties.PolicyDocument.Statement).toContainEqual(
        expect.objectContaining({
          Effect: 'Deny',
          Action: 's3:*',
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        }),
      );
    }
  });

  // Each handler alone: test/lib/constructs/handlers/. Here, how the stage wires them to the rest.
  describe('handlers', () => {
    /** Statements of the default policy of the role whose logical ID starts with `rolePrefix`. */
    const statementsOfRole = (rolePrefix: string): Json[] => {
      const role = logicalId(s, 'AWS::IAM::Role', rolePrefix);
      return resourcesOf(s, 'AWS::IAM::Policy')
        .filter(([, r]) => r.Properties.Roles.some((ref: Json) => ref.Ref === role))
        .flatMap(([, r]) => r.Properties.PolicyDocument.Statement as Json[]);
    };

    const variablesOf = (prefix: string): Json =>
      s.json.Resources[logicalId(s, 'AWS::Lambda::Function', prefix)].Properties.Environment.Variables;
    const secretRef = (prefix: string): Json => ({
      Ref: logicalId(s, 'AWS::SecretsManager::Secret', prefix),
    });

    it("points each handler at the stage's secrets, spend ledger, canary model and gateway document", () => {
      expect(variablesOf('HandlersCanary')).toMatchObject({
        [HandlerEnv.openaiApiKeySecretArn]: secretRef('SecretsOpenAIApiKey'),
        [HandlerEnv.canaryModel]: config.handlers.canaryModel,
      });
      expect(variablesOf('HandlersSpendReconciliation')).toMatchObject({
        [HandlerEnv.openaiAdminKeySecretArn]: secretRef('SecretsOpenAIAdminKey'),
        [HandlerEnv.spendLedgerTable]: { Ref: logicalId(s, 'AWS::DynamoDB::Table', 'SpendLedgerTable') },
      });
      expect(variablesOf('HandlersKeyRotation')).toMatchObject({
        [HandlerEnv.openaiApiKeySecretArn]: secretRef('SecretsOpenAIApiKey'),
        [HandlerEnv.openaiAdminKeySecretArn]: secretRef('SecretsOpenAIAdminKey'),
      });
      const batch = variablesOf('HandlersBatch');
      expect(batch).toMatchObject({ [HandlerEnv.openaiApiKeySecretArn]: secretRef('SecretsOpenAIApiKey') });
      expect(JSON.parse(batch[HandlerEnv.gatewayConfigJson]).stage).toBe(config.name);
      for (const prefix of [
        'HandlersCanary',
        'HandlersSpendReconciliation',
        'HandlersKeyRotation',
        'HandlersBatch',
      ])
        expect(variablesOf(prefix)[HandlerEnv.stage]).toBe(config.name);
    });

    it("expires the batch bucket's input/ and output/ after the stage's handlers settings", () => {
      const bucket = s.json.Resources[logicalId(s, 'AWS::S3::Bucket', 'HandlersBatchBucket')].Properties;
      expect(bucket.LifecycleConfiguration.Rules).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            Prefix: 'input/',
            ExpirationInDays: config.handlers.batchInputRetentionDays,
          }),
          expect.objectContaining({
            Prefix: 'output/',
            ExpirationInDays: config.handlers.batchOutputRetentionDays,
          }),
        ]),
      );
    });

    it("lets spend reconciliation only UpdateItem its stage's spend ledger, and use the key only through DynamoDB", () => {
      const table = logicalId(s, 'AWS::DynamoDB::Table', 'SpendLedgerTable');
      const statements = statementsOfRole('HandlersSpendReconciliationRole');
      const dynamo = statements.filter((st) => actionsOf(st).some((a) => a.startsWith('dynamodb:')));
      expect(dynamo.map((st) => [actionsOf(st), st.Resource])).toEqual([
        [['dynamodb:UpdateItem'], { 'Fn::GetAtt': [table, 'Arn'] }],
      ]);
      const kms = statements.filter((st) => actionsOf(st).some((a) => a.startsWith('kms:')));
      expect(kms).toEqual([
        expect.objectContaining({
          Resource: { 'Fn::GetAtt': [logicalId(s, 'AWS::KMS::Key', 'SecretsKey'), 'Arn'] },
          Condition: { StringEquals: { 'kms:ViaService': `dynamodb.${config.env.region}.amazonaws.com` } },
        }),
      ]);
    });
  });

  describe('budget (its own tests are in test/lib/constructs/stage-budget.test.ts)', () => {
    it('names the budget after the stage and counts the stage tag, notifying the on-call topic', () => {
      const topic = { Ref: onlyResource(s, 'AWS::SNS::Topic')[0] };
      const budget = onlyResource(s, 'AWS::Budgets::Budget')[1].Properties;
      expect(budget.Budget).toMatchObject({
        BudgetName: `${APPLICATION}-${config.name}-monthly`,
        BudgetLimit: { Amount: config.infraBudget.monthlyUsd, Unit: 'USD' },
        CostFilters: { TagKeyValue: [`user:Stage$${config.name}`] },
      });
      for (const notification of budget.NotificationsWithSubscribers as Json[])
        expect(notification.Subscribers).toEqual([{ SubscriptionType: 'SNS', Address: topic }]);
    });
  });

  it('tags every taggable resource with the application and the stage', () => {
    let tagged = 0;
    for (const [id, resource] of Object.entries(s.json.Resources as Json)) {
      const tags = resource.Properties?.Tags;
      if (!Array.isArray(tags)) continue;
      tagged++;
      expect({ id, tags }).toEqual({
        id,
        tags: expect.arrayContaining([
          { Key: 'Application', Value: APPLICATION },
          { Key: 'Stage', Value: config.name },
        ]),
      });
    }
    expect(tagged).toBeGreaterThan(30);
  });

  it('warns at synth while a client still accepts the documented placeholder key', () => {
    Annotations.fromStack(s.stage.gatewayStack).hasWarning(
      '*',
      Match.stringLikeRegexp(
        `client "example-app" accepts the documented placeholder key "example-client-key-${config.name.toLowerCase()}"`,
      ),
    );
  });

  it('outputs what docs/deploying.md tells the operator to look up', () => {
    expect(Object.keys(s.json.Outputs).sort()).toEqual([
      'AdminKeySecretArn',
      'ApiKeySecretArn',
      'AppConfigApplicationId',
      'AppConfigDeploymentStrategyId',
      'AppConfigEnvironmentId',
      'AppConfigProfileId',
      'BatchBucketName',
      'CanaryFunctionName',
      'DashboardName',
      'GatewayUrl',
      'OnCallTopicArn',
    ]);
    expect(s.json.Outputs.ApiKeySecretArn.Value).toEqual({
      Ref: logicalId(s, 'AWS::SecretsManager::Secret', 'SecretsOpenAIApiKey'),
    });
    expect(s.json.Outputs.AppConfigProfileId.Value).toEqual({
      Ref: logicalId(s, 'AWS::AppConfig::ConfigurationProfile', 'GatewayConfigDocument'),
    });
    expect(s.json.Outputs.AppConfigDeploymentStrategyId.Value).toEqual({
      Ref: logicalId(s, 'AWS::AppConfig::DeploymentStrategy', 'GatewayConfigRollout'),
    });
  });

  it('holds no secret value anywhere in the template', () => {
    // Booleans and matches only: a failure must not print the template.
    const text = JSON.stringify(s.json);
    expect(text.match(/sk-(proj-|admin-)?[A-Za-z0-9_-]{8,}/g)).toBeNull();
    expect(text.includes('"SecretString"')).toBe(false);
    expect(text.includes('example-client-key')).toBe(false);
    // The one dynamic reference is the cache's AUTH token, resolved by CloudFormation at deploy time.
    expect(text.match(/\{\{resolve:[a-z-]+/g)).toEqual(['{{resolve:secretsmanager']);
  });
});

describe('production differs from staging where cost and safety say so', () => {
  const deletionPolicies = (s: SynthesizedStage, type: string): string[] =>
    resourcesOf(s, type).map(([, r]) => r.DeletionPolicy);

  it.each([
    'AWS::SecretsManager::Secret',
    'AWS::KMS::Key',
    'AWS::ElastiCache::ReplicationGroup',
    'AWS::DynamoDB::Table',
    'AWS::S3::Bucket',
    'AWS::Logs::LogGroup',
  ])('production retains every %s, staging deletes them', (type) => {
    expect(new Set(deletionPolicies(production, type))).toEqual(new Set(['Retain']));
    expect(new Set(deletionPolicies(staging, type))).toEqual(new Set(['Delete']));
  });

  it('protects the production stack, load balancer and spend ledger from deletion, as resilience says', () => {
    expect(production.stage.gatewayStack.terminationProtection).toBe(true);
    expect(staging.stage.gatewayStack.terminationProtection).toBe(false);
    for (const [s, config] of [
      [production, productionConfig],
      [staging, stagingConfig],
    ] as const) {
      const protectedFlag = config.resilience.deletionProtection;
      s.template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
        LoadBalancerAttributes: Match.arrayWith([
          { Key: 'deletion_protection.enabled', Value: String(protectedFlag) },
        ]),
      });
      s.template.hasResourceProperties('AWS::DynamoDB::Table', {
        KeySchema: Match.arrayWith([{ AttributeName: 'month', KeyType: 'HASH' }]),
        DeletionProtectionEnabled: protectedFlag,
      });
    }
    expect(productionConfig.resilience.deletionProtection).toBe(true);
    expect(stagingConfig.resilience.deletionProtection).toBe(false);
  });

  it('serves production on HTTPS with a redirect from HTTP, staging on internal HTTP', () => {
    production.template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 443,
      Protocol: 'HTTPS',
      Certificates: [{ CertificateArn: productionConfig.service.certificateArn }],
      SslPolicy: Match.stringLikeRegexp('TLS13'),
    });
    production.template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 80,
      DefaultActions: [
        { Type: 'redirect', RedirectConfig: { Protocol: 'HTTPS', Port: '443', StatusCode: 'HTTP_301' } },
      ],
    });
    staging.template.resourceCountIs('AWS::ElasticLoadBalancingV2::Listener', 1);
    staging.template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 80,
      Protocol: 'HTTP',
    });
  });

  it('opens the listeners only to the configured CIDRs', () => {
    for (const [, s, config] of both()) {
      const albSg = logicalId(s, 'AWS::EC2::SecurityGroup', 'GatewayAlbSecurityGroup');
      const cidrs = (s.json.Resources[albSg].Properties.SecurityGroupIngress as Json[]).map((r) => r.CidrIp);
      expect(new Set(cidrs)).toEqual(new Set(config.service.ingressCidrs));
    }
  });
});

describe('staging cannot read production secrets', () => {
  it('has no IAM statement that names a resource of another stage or account', () => {
    for (const [, s, config] of both()) {
      const text = JSON.stringify(policyStatements(s));
      const other = config === stagingConfig ? productionConfig : stagingConfig;
      expect(text).not.toContain(other.env.account);
      expect(text).not.toContain(other.name);
    }
  });

  it('lists only production roles as readers of the production secrets', () => {
    const productionRoles = new Set(resourcesOf(production, 'AWS::IAM::Role').map(([id]) => id));
    for (const [, policy] of resourcesOf(production, 'AWS::SecretsManager::ResourcePolicy')) {
      const deny = (policy.Properties.ResourcePolicy.Statement as Json[]).find(
        (st) => st.Sid === 'OnlyTheStageRuntimesReadTheValue',
      )!;
      for (const reader of deny.Condition.ArnNotEquals['aws:PrincipalArn'] as Json[]) {
        if (reader['Fn::GetAtt']) expect(productionRoles).toContain(reader['Fn::GetAtt'][0]);
        else
          expect(reader['Fn::Sub']).toContain(
            `:role/cdk-hnb659fds-cfn-exec-role-${productionConfig.env.account}-`,
          );
      }
    }
  });
});

describe('the synthesized app', () => {
  it('keeps both stages in separate templates (no cross-stage references)', () => {
    expect(Template.fromStack(staging.stage.gatewayStack).toJSON()).not.toHaveProperty(
      'Parameters.ProductionGateway',
    );
    expect(JSON.stringify(staging.json)).not.toMatch(/Fn::ImportValue/);
    expect(JSON.stringify(production.json)).not.toMatch(/Fn::ImportValue/);
  });
});

describe('compliance fixes (synth above ran every compliance pack)', () => {
  const stages = (): [string, SynthesizedStage][] => [
    ['Staging', staging],
    ['Production', production],
  ];

  it('names the source of every Lambda invoke permission (the rotation one: test/lib/constructs/handlers/key-rotation.test.ts)', () => {
    for (const [, s] of stages()) {
      const permissions = resourcesOf(s, 'AWS::Lambda::Permission').map(([, p]) => p.Properties as Json);
      for (const p of permissions) expect(p.SourceArn).toBeDefined();
      const rotation = permissions.filter((p) => p.Principal === 'secretsmanager.amazonaws.com');
      expect(rotation).toHaveLength(1);
      expect(rotation[0].SourceArn).toEqual({
        Ref: logicalId(s, 'AWS::SecretsManager::Secret', 'SecretsOpenAIApiKey'),
      });
    }
  });

  it('logs WAF to an aws-waf-logs- group on the stage key, with authorization redacted', () => {
    for (const [name, s] of stages()) {
      const webAcl = logicalId(s, 'AWS::WAFv2::WebACL', 'GatewayWaf');
      const wafLogs = logicalId(s, 'AWS::Logs::LogGroup', 'GatewayWafLogs');
      const [, logging] = onlyResource(s, 'AWS::WAFv2::LoggingConfiguration');
      expect(logging.Properties.ResourceArn).toEqual({ 'Fn::GetAtt': [webAcl, 'Arn'] });
      expect(logging.Properties.RedactedFields).toEqual([{ SingleHeader: { Name: 'authorization' } }]);
      expect(JSON.stringify(logging.Properties.LogDestinationConfigs)).toContain(
        `:log-group:aws-waf-logs-${APPLICATION}-${name}`,
      );
      expect(s.json.Resources[wafLogs].Properties.LogGroupName).toBe(`aws-waf-logs-${APPLICATION}-${name}`);
    }
  });

  it('encrypts every log group with the stage key, which lets CloudWatch Logs use it for this account only', () => {
    for (const [, s] of stages()) {
      const key = logicalId(s, 'AWS::KMS::Key', 'SecretsKey');
      const logGroups = resourcesOf(s, 'AWS::Logs::LogGroup');
      expect(logGroups.length).toBeGreaterThanOrEqual(7); // flow logs, gateway, WAF, four handlers
      for (const [, logGroup] of logGroups)
        expect(logGroup.Properties.KmsKeyId).toEqual({ 'Fn::GetAtt': [key, 'Arn'] });
      const statements = s.json.Resources[key].Properties.KeyPolicy.Statement as Json[];
      const logsStatement = statements.find(
        (st) => st.Sid === 'CloudWatchLogsEncryptsThisAccountsLogGroups',
      )!;
      expect(logsStatement.Principal).toEqual({ Service: 'logs.us-east-1.amazonaws.com' });
      expect(JSON.stringify(logsStatement.Condition.ArnLike)).toContain('kms:EncryptionContext:aws:logs:arn');
    }
  });

  it('denies KMS grants that are not for AWS resources on both keys', () => {
    for (const [, s] of stages()) {
      for (const [, key] of resourcesOf(s, 'AWS::KMS::Key')) {
        expect(key.Properties.KeyPolicy.Statement).toContainEqual(
          expect.objectContaining({
            Sid: 'GrantsOnlyForAwsResources',
            Effect: 'Deny',
            Action: 'kms:CreateGrant',
            Condition: {
              BoolIfExists: { 'kms:GrantIsForAWSResource': 'false', 'aws:PrincipalIsAWSService': 'false' },
            },
          }),
        );
      }
    }
  });

  it('alarms on the batch dead-letter queue (the queue itself: test/lib/constructs/handlers/batch.test.ts)', () => {
    for (const [name, s] of stages()) {
      const queue = logicalId(s, 'AWS::SQS::Queue', 'HandlersBatchDeadLetters');
      const key = logicalId(s, 'AWS::KMS::Key', 'SecretsKey');
      expect(s.json.Resources[queue].Properties.KmsMasterKeyId).toEqual({ 'Fn::GetAtt': [key, 'Arn'] });
      const alarm = s.template.findResources('AWS::CloudWatch::Alarm', {
        Properties: { AlarmName: `${APPLICATION}-${name}-BatchDeadLetters` },
      });
      const [alarmProps] = Object.values(alarm).map((a) => a.Properties as Json);
      expect(alarmProps).toMatchObject({
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Namespace: 'AWS/SQS',
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queue, 'QueueName'] } }],
      });
      expect(alarmProps.AlarmDescription).toContain(`${RUNBOOK_URL}#batch-dead-letters`);
      expect(alarmProps.AlarmActions).toHaveLength(1);
    }
  });

  it('gives every on-call subscription a redrive policy to an alarmed dead-letter queue', () => {
    for (const [name, s] of stages()) {
      const queue = logicalId(s, 'AWS::SQS::Queue', 'OnCallDeadLetters');
      const subscriptions = resourcesOf(s, 'AWS::SNS::Subscription');
      expect(subscriptions.length).toBeGreaterThan(0);
      for (const [, subscription] of subscriptions) {
        expect(subscription.Properties.RedrivePolicy).toEqual({
          deadLetterTargetArn: { 'Fn::GetAtt': [queue, 'Arn'] },
        });
      }
      if (name === 'Production') {
        expect(subscriptions.map(([, sub]) => sub.Properties.Protocol)).toContain('https');
      }
      s.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmName: `${APPLICATION}-${name}-OnCallDeadLetters`,
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queue, 'QueueName'] } }],
      });
    }
  });
});
