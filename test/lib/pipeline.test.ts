import { Template } from 'aws-cdk-lib/assertions';
import { addPipeline } from '../../lib/apps';
import { APPLICATION, stagingConfig } from '../../lib/config';
import { pipelineConfig, validatePipelineConfig } from '../../lib/config/pipeline';
import {
  ALARM_WATCH_MINUTES,
  GatewayPipelineStack,
  PIPELINE_RETENTION_DAYS,
  SYNTH_COMMANDS,
} from '../../lib/pipeline/gateway-pipeline-stack';
import { GATEWAY_IMAGE_DIRECTORY, LAMBDA_ROOT, newApp } from './synth';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Json = Record<string, any>;

let stack: GatewayPipelineStack;
let pipeline: Json;
let json: Json;

beforeAll(() => {
  // As bin/pipeline.ts: every compliance pack on the whole app, the pipeline stack and the stages it
  // deploys (synth throws on any unacknowledged finding).
  const app = newApp();
  stack = addPipeline(app, { gatewayImageDirectory: GATEWAY_IMAGE_DIRECTORY, lambdaRoot: LAMBDA_ROOT });
  app.synth();
  json = Template.fromStack(stack).toJSON();
  const pipelines = Object.values(json.Resources as Json).filter(
    (r) => r.Type === 'AWS::CodePipeline::Pipeline',
  );
  expect(pipelines).toHaveLength(1);
  pipeline = pipelines[0].Properties;
});

const stage = (name: string): Json => {
  const found = (pipeline.Stages as Json[]).find((s) => s.Name === name);
  expect(found).toBeDefined();
  return found!;
};

/** The stage's actions as `runOrder name`, in order. */
const actionsOf = (name: string): string[] =>
  (stage(name).Actions as Json[])
    .sort((a, b) => a.RunOrder - b.RunOrder)
    .map((a) => `${a.RunOrder} ${a.Name}`);

const projectOf = (action: Json): Json => json.Resources[action.Configuration.ProjectName.Ref];

it('lives in its own account and region from config', () => {
  expect(stack.account).toBe(pipelineConfig.env.account);
  expect(stack.region).toBe(pipelineConfig.env.region);
});

it('runs source, synth, self-update, assets, Staging, then Production', () => {
  expect((pipeline.Stages as Json[]).map((s) => s.Name)).toEqual([
    'Source',
    'Build',
    'UpdatePipeline',
    'Assets',
    'Staging',
    'Production',
  ]);
});

it('takes the source from the configured repository and branch through the connection', () => {
  const [source] = stage('Source').Actions as Json[];
  expect(source.ActionTypeId).toMatchObject({ Category: 'Source', Provider: 'CodeStarSourceConnection' });
  expect(source.Configuration).toMatchObject({
    ConnectionArn: pipelineConfig.connectionArn,
    FullRepositoryId: pipelineConfig.repository,
    BranchName: pipelineConfig.branch,
  });
});

it('synthesizes with every check: npm ci, the tests and lint, the nag-checked pipeline synth', () => {
  const [synth] = stage('Build').Actions as Json[];
  const buildSpec = JSON.parse(projectOf(synth).Properties.Source.BuildSpec);
  expect(buildSpec.phases.build.commands).toEqual([...SYNTH_COMMANDS]);
  expect(SYNTH_COMMANDS).toContain('npm test');
});

it('deploys Staging, then runs the canary and watches its alarms', () => {
  expect(actionsOf('Staging')).toEqual(['1 Gateway.Prepare', '2 Gateway.Deploy', '3 CanaryAndAlarms']);
  const check = (stage('Staging').Actions as Json[]).find((a) => a.Name === 'CanaryAndAlarms')!;
  const project = projectOf(check).Properties;
  const commands: string[] = JSON.parse(project.Source.BuildSpec).phases.build.commands;
  expect(commands.join('\n')).toContain('lambda invoke --function-name "$CANARY_FUNCTION"');
  expect(commands.join('\n')).toContain(
    'cloudwatch describe-alarms --alarm-name-prefix "$ALARM_PREFIX" --state-value ALARM',
  );
  const env = Object.fromEntries(
    (project.Environment.EnvironmentVariables as Json[]).map((v) => [v.Name, v.Value]),
  );
  expect(env).toMatchObject({
    ALARM_PREFIX: `${APPLICATION}-${stagingConfig.name}-`,
    STAGE_REGION: stagingConfig.env.region,
    WATCH_MINUTES: String(ALARM_WATCH_MINUTES),
    CHECK_ROLE_ARN: `arn:aws:iam::${stagingConfig.env.account}:role/${APPLICATION}-${stagingConfig.name}-deployment-check`,
  });
  // The canary's function name comes from staging's stack output.
  const actionEnv = JSON.parse(check.Configuration.EnvironmentVariables) as Json[];
  expect(actionEnv).toContainEqual(
    expect.objectContaining({
      name: 'CANARY_FUNCTION',
      value: expect.stringMatching(/^#\{StagingGateway[0-9A-F]+\.CanaryFunctionName\}$/),
    }),
  );
});

it('asks for a manual approval before Production deploys', () => {
  expect(actionsOf('Production')).toEqual(['1 PromoteToProduction', '2 Gateway.Prepare', '3 Gateway.Deploy']);
  const approval = (stage('Production').Actions as Json[])[0];
  expect(approval.ActionTypeId).toMatchObject({ Category: 'Approval', Provider: 'Manual' });
});

describe("the check step's role", () => {
  const statements = (): Json[] => {
    const policies = Object.values(json.Resources as Json).filter(
      (r) =>
        r.Type === 'AWS::IAM::Policy' &&
        (r.Properties.Roles as Json[]).some(
          (role) => role.Ref === stack.getLogicalId(stack.checkStepRole.node.defaultChild as any),
        ),
    );
    return policies.flatMap((p) => p.Properties.PolicyDocument.Statement as Json[]);
  };

  it("may assume only staging's check role, and otherwise only what CodeBuild needs", () => {
    const actions = statements().flatMap((s) => [s.Action].flat() as string[]);
    const own = actions.filter((a) => !/^(logs|codebuild|s3|kms):/.test(a));
    expect(own).toEqual(['sts:AssumeRole']);
    expect(statements().find((s) => s.Action === 'sts:AssumeRole')!.Resource).toBe(
      `arn:aws:iam::${stagingConfig.env.account}:role/${APPLICATION}-${stagingConfig.name}-deployment-check`,
    );
    expect(
      actions
        .filter((a) => a.startsWith('s3:') || a.startsWith('kms:'))
        .every((a) => !/Put|Delete|Abort/.test(a)),
    ).toBe(true);
  });

  it("staging's check role may only invoke the canary and read staging's alarms, assumed only by the step's role", () => {
    const staging = Template.fromStack(stack.staging.gatewayStack).toJSON();
    const [[roleId, role]] = Object.entries(staging.Resources as Json).filter(
      ([, r]) =>
        r.Type === 'AWS::IAM::Role' &&
        r.Properties.RoleName === `${APPLICATION}-${stagingConfig.name}-deployment-check`,
    );
    const trust = role.Properties.AssumeRolePolicyDocument.Statement as Json[];
    expect(trust).toHaveLength(1);
    // A literal partition: cdk.json sets @aws-cdk/core:enablePartitionLiterals.
    expect(trust[0].Principal.AWS).toBe(`arn:aws:iam::${pipelineConfig.env.account}:root`);
    expect(JSON.stringify(trust[0].Condition.ArnEquals['aws:PrincipalArn'])).toContain(
      `:iam::${pipelineConfig.env.account}:role/${APPLICATION}-${stagingConfig.name}-check-step`,
    );
    const policies = Object.values(staging.Resources as Json).filter(
      (r) => r.Type === 'AWS::IAM::Policy' && (r.Properties.Roles as Json[]).some((x) => x.Ref === roleId),
    );
    const granted = policies.flatMap((p) => p.Properties.PolicyDocument.Statement as Json[]);
    expect(granted.map((s) => s.Action)).toEqual(['lambda:InvokeFunction', 'cloudwatch:DescribeAlarms']);
    expect(granted[0].Resource).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^HandlersCanary/), 'Arn'] });
    expect(JSON.stringify(granted[1].Resource)).toContain(
      `:cloudwatch:${stagingConfig.env.region}:${stagingConfig.env.account}:alarm:${APPLICATION}-${stagingConfig.name}-*`,
    );
  });

  it('production gets no check role', () => {
    const production = Template.fromStack(stack.production.gatewayStack).toJSON();
    const names = Object.values(production.Resources as Json)
      .filter((r) => r.Type === 'AWS::IAM::Role')
      .map((r) => r.Properties.RoleName);
    expect(names.filter((n) => typeof n === 'string' && n.includes('deployment-check'))).toEqual([]);
  });
});

describe('the artifact bucket and build logs', () => {
  const resourceOf = (type: string, pick: (r: Json) => boolean = () => true): Json => {
    const found = Object.values(json.Resources as Json).filter((r) => r.Type === type && pick(r));
    expect(found).toHaveLength(1);
    return found[0].Properties;
  };
  const artifactBucket = (): Json =>
    resourceOf(
      'AWS::S3::Bucket',
      (r) =>
        r.Properties.BucketEncryption?.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault
          .SSEAlgorithm === 'aws:kms',
    );

  it('versions the artifacts, logs access to them, expires old ones and sends events to EventBridge', () => {
    const bucket = artifactBucket();
    expect(bucket.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    expect(bucket.LoggingConfiguration).toMatchObject({ LogFilePrefix: 'artifacts/' });
    expect(bucket.LifecycleConfiguration.Rules).toEqual([
      { Id: 'expire-artifacts', Status: 'Enabled', ExpirationInDays: PIPELINE_RETENTION_DAYS },
      {
        Id: 'expire-noncurrent-versions',
        Status: 'Enabled',
        NoncurrentVersionExpiration: { NoncurrentDays: 30 },
      },
      {
        Id: 'abort-incomplete-uploads',
        Status: 'Enabled',
        AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
      },
    ]);
    expect(bucket.NotificationConfiguration).toEqual({
      EventBridgeConfiguration: { EventBridgeEnabled: true },
    });
  });

  it('denies KMS grants that are not for AWS resources on the artifact key and the build logs key', () => {
    const keys = Object.values(json.Resources as Json).filter((r) => r.Type === 'AWS::KMS::Key');
    expect(keys).toHaveLength(2);
    for (const key of keys) {
      expect(key.Properties.EnableKeyRotation).toBe(true);
      expect(key.Properties.KeyPolicy.Statement).toContainEqual(
        expect.objectContaining({
          Sid: 'GrantsOnlyForAwsResources',
          Effect: 'Deny',
          Action: 'kms:CreateGrant',
        }),
      );
    }
  });

  it('sends every CodeBuild project to one encrypted log group kept a year', () => {
    const logGroup = resourceOf('AWS::Logs::LogGroup');
    expect(logGroup.RetentionInDays).toBe(PIPELINE_RETENTION_DAYS);
    expect(logGroup.KmsKeyId).toBeDefined();
    const projects = Object.values(json.Resources as Json).filter(
      (r) => r.Type === 'AWS::CodeBuild::Project',
    );
    expect(projects.length).toBeGreaterThanOrEqual(4);
    for (const project of projects) {
      expect(project.Properties.LogsConfig.CloudWatchLogs).toMatchObject({
        Status: 'ENABLED',
        GroupName: { Ref: expect.stringMatching(/^BuildLogs/) },
      });
    }
  });
});

it('refuses a config with every problem listed', () => {
  expect(() =>
    validatePipelineConfig({
      env: { account: '1', region: 'us-east-1' },
      repository: 'x',
      branch: ' ',
      connectionArn: 'arn',
    }),
  ).toThrow(
    [
      'pipeline config: 4 problems:',
      '  - env.account must be 12 digits, got "1"',
      '  - repository must be "owner/name", got "x"',
      '  - branch must not be empty',
      '  - connectionArn must be a CodeConnections connection ARN, got "arn"',
    ].join('\n'),
  );
});
