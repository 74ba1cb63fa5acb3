import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { APPLICATION, productionConfig, stagingConfig, StageConfig } from '../../../lib/config';
import { validateStageConfig } from '../../../lib/config/validate';
import {
  GATEWAY_CONFIG_PROFILE_NAME,
  GatewayConfigStore,
  GatewayConfigStoreProps,
} from '../../../lib/constructs/gateway-config/gateway-config';
import { GatewayEnv } from '../../../runtime/gateway-env';
import { LAMBDA_ROOT, logicalId, onlyResource, resourcesOf, SynthesizedStage, synthStages } from '../synth';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Json = Record<string, any>;

let staging: SynthesizedStage;
let production: SynthesizedStage;

beforeAll(() => {
  // One app, both stages, cdk-nag on: synth throws on any unacknowledged AwsSolutions finding.
  [staging, production] = synthStages(stagingConfig, productionConfig);
}, 240_000);

describe.each([
  ['Staging', () => staging, stagingConfig],
  ['Production', () => production, productionConfig],
] as const)('%s stage: the gateway document in AppConfig', (_name, get, config: StageConfig) => {
  let s: SynthesizedStage;
  let ids: { app: string; env: string; profile: string; strategy: string; validator: string };
  beforeAll(() => {
    s = get();
    ids = {
      app: onlyResource(s, 'AWS::AppConfig::Application')[0],
      env: onlyResource(s, 'AWS::AppConfig::Environment')[0],
      profile: onlyResource(s, 'AWS::AppConfig::ConfigurationProfile')[0],
      strategy: onlyResource(s, 'AWS::AppConfig::DeploymentStrategy')[0],
      validator: logicalId(s, 'AWS::Lambda::Function', 'GatewayConfigValidator'),
    };
  });

  it('has one application, one environment named after the stage and one freeform hosted profile', () => {
    s.template.hasResourceProperties('AWS::AppConfig::Application', {
      Name: `${APPLICATION}-${config.name}`,
    });
    // A retained stage keeps AppConfig's deletion protection; a destroyable one (staging) may be
    // deleted right after its tasks stop.
    const deletionProtectionCheck = config.resilience.removalPolicy === 'retain' ? 'APPLY' : 'BYPASS';
    s.template.hasResourceProperties('AWS::AppConfig::Environment', {
      ApplicationId: { Ref: ids.app },
      Name: config.name,
      DeletionProtectionCheck: deletionProtectionCheck,
    });
    s.template.hasResourceProperties('AWS::AppConfig::ConfigurationProfile', {
      ApplicationId: { Ref: ids.app },
      DeletionProtectionCheck: deletionProtectionCheck,
      Name: GATEWAY_CONFIG_PROFILE_NAME,
      LocationUri: 'hosted',
      Type: 'AWS.Freeform',
    });
  });

  it('hosts the synthesized gateway document as the first version and deploys it to the environment', () => {
    const [versionId, version] = onlyResource(s, 'AWS::AppConfig::HostedConfigurationVersion');
    expect(version.Properties.ContentType).toBe('application/json');
    expect(JSON.parse(version.Properties.Content)).toEqual(
      JSON.parse(JSON.stringify(validateStageConfig(config))),
    );
    expect(version.Properties.ConfigurationProfileId).toEqual({ Ref: ids.profile });
    // The same document the container starts on when AppConfig is unreadable.
    const container = onlyResource(s, 'AWS::ECS::TaskDefinition')[1].Properties.ContainerDefinitions[0];
    const fallback = (container.Environment as Json[]).find((e) => e.Name === GatewayEnv.configJson);
    expect(fallback?.Value).toBe(version.Properties.Content);

    const [, deployment] = onlyResource(s, 'AWS::AppConfig::Deployment');
    expect(deployment.Properties).toMatchObject({
      ApplicationId: { Ref: ids.app },
      EnvironmentId: { Ref: ids.env },
      ConfigurationProfileId: { Ref: ids.profile },
      ConfigurationVersion: { Ref: versionId },
      DeploymentStrategyId: { Ref: ids.strategy },
    });
  });

  it('validates every version with the validator Lambda, which only AppConfig for this account and application may invoke', () => {
    const [, profile] = onlyResource(s, 'AWS::AppConfig::ConfigurationProfile');
    expect(profile.Properties.Validators).toEqual([
      { Type: 'LAMBDA', Content: { 'Fn::GetAtt': [ids.validator, 'Arn'] } },
    ]);
    const permissions = resourcesOf(s, 'AWS::Lambda::Permission').filter(
      ([, p]) => p.Properties.FunctionName?.['Fn::GetAtt']?.[0] === ids.validator,
    );
    expect(permissions).toHaveLength(1);
    const permission = permissions[0][1].Properties;
    expect(permission.Principal).toBe('appconfig.amazonaws.com');
    expect(permission.Action).toBe('lambda:InvokeFunction');
    expect(permission.SourceAccount).toBe(config.env.account);
    expect(JSON.stringify(permission.SourceArn)).toContain(
      `:appconfig:${config.env.region}:${config.env.account}:application/`,
    );
    expect(JSON.stringify(permission.SourceArn)).toContain(`{"Ref":"${ids.app}"},"/*"`);
    expect(onlyResource(s, 'AWS::AppConfig::ConfigurationProfile')[1].DependsOn).toContain(permissions[0][0]);
    s.template.hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'index.handler',
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Description: Match.stringLikeRegexp('AppConfig validator'),
      // The validator refuses a document for another stage, as the running gateway would.
      Environment: { Variables: Match.objectLike({ STAGE: config.name }) },
    });
  });

  it('rolls a version out to every task at once and bakes 10 minutes watching the alarms', () => {
    s.template.hasResourceProperties('AWS::AppConfig::DeploymentStrategy', {
      GrowthType: 'LINEAR',
      GrowthFactor: 100,
      DeploymentDurationInMinutes: 0,
      FinalBakeTimeInMinutes: 10,
      ReplicateTo: 'NONE',
    });
  });

  it('rolls back on the gateway 5xx and latency alarms, through a role that may only describe those', () => {
    const alarmId = (suffix: string) => logicalId(s, 'AWS::CloudWatch::Alarm', `Observability${suffix}`);
    const [target5xx, latency] = [alarmId('Target5xx'), alarmId('AlbTargetLatency')];
    const [, environment] = onlyResource(s, 'AWS::AppConfig::Environment');
    const monitors = environment.Properties.Monitors as Json[];
    expect(monitors.map((m) => m.AlarmArn)).toEqual([
      { 'Fn::GetAtt': [target5xx, 'Arn'] },
      { 'Fn::GetAtt': [latency, 'Arn'] },
    ]);
    const roleId = logicalId(s, 'AWS::IAM::Role', 'GatewayConfigAlarmRole');
    // The L2's own alarm role (DescribeAlarms on "*") is not made: this is the only role AppConfig assumes.
    const appConfigRoles = resourcesOf(s, 'AWS::IAM::Role').filter(([, r]) =>
      JSON.stringify(r.Properties.AssumeRolePolicyDocument).includes('appconfig.amazonaws.com'),
    );
    expect(appConfigRoles.map(([id]) => id)).toEqual([roleId]);
    for (const m of monitors) expect(m.AlarmRoleArn).toEqual({ 'Fn::GetAtt': [roleId, 'Arn'] });
    const role = s.json.Resources[roleId].Properties;
    expect(role.AssumeRolePolicyDocument.Statement).toEqual([
      {
        Action: 'sts:AssumeRole',
        Effect: 'Allow',
        Principal: { Service: 'appconfig.amazonaws.com' },
        Condition: { StringEquals: { 'aws:SourceAccount': config.env.account } },
      },
    ]);
    expect(role.ManagedPolicyArns).toBeUndefined();
    expect(role.Policies).toEqual([
      {
        PolicyName: 'RollbackAlarms',
        PolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            {
              Action: 'cloudwatch:DescribeAlarms',
              Effect: 'Allow',
              // IAM sorts the resources; the two alarms and nothing else.
              Resource: [{ 'Fn::GetAtt': [latency, 'Arn'] }, { 'Fn::GetAtt': [target5xx, 'Arn'] }],
            },
          ],
        },
      },
    ]);
    // No policy elsewhere gives the role more.
    const attached = resourcesOf(s, 'AWS::IAM::Policy').filter(([, p]) =>
      JSON.stringify(p.Properties.Roles ?? []).includes(roleId),
    );
    expect(attached).toEqual([]);
  });

  it("lets the task role read only its own stage's configuration, and only through the Data API", () => {
    const taskRole = logicalId(s, 'AWS::IAM::Role', 'GatewayTaskTaskRole');
    const statements = resourcesOf(s, 'AWS::IAM::Policy')
      .filter(([, p]) => JSON.stringify(p.Properties.Roles).includes(taskRole))
      .flatMap(([, p]) => p.Properties.PolicyDocument.Statement as Json[]);
    const appConfig = statements.filter((st) =>
      [st.Action].flat().some((a: string) => a.startsWith('appconfig:')),
    );
    expect(appConfig).toEqual([
      {
        Effect: 'Allow',
        Action: ['appconfig:GetLatestConfiguration', 'appconfig:StartConfigurationSession'],
        Resource: {
          'Fn::Join': [
            '',
            [
              // A literal partition: cdk.json sets @aws-cdk/core:enablePartitionLiterals.
              `arn:aws:appconfig:${config.env.region}:${config.env.account}:application/`,
              { Ref: ids.app },
              '/environment/',
              { Ref: ids.env },
              '/configuration/',
              { Ref: ids.profile },
            ],
          ],
        },
      },
    ]);
  });

  it('gives the gateway container the APPCONFIG_* environment of its own stage', () => {
    const container = onlyResource(s, 'AWS::ECS::TaskDefinition')[1].Properties.ContainerDefinitions[0];
    const env = Object.fromEntries((container.Environment as Json[]).map((e) => [e.Name, e.Value]));
    expect(env[GatewayEnv.appConfigApplication]).toEqual({ Ref: ids.app });
    expect(env[GatewayEnv.appConfigEnvironment]).toEqual({ Ref: ids.env });
    expect(env[GatewayEnv.appConfigProfile]).toEqual({ Ref: ids.profile });
    expect(env[GatewayEnv.appConfigPollSeconds]).toBe('30');
  });
});

describe('GatewayConfigStore props', () => {
  const make = (changes: Partial<GatewayConfigStoreProps> = {}): GatewayConfigStore => {
    const stack = new Stack(new App(), 'Test', { env: { account: '111111111111', region: 'us-east-1' } });
    const alarm = new cloudwatch.Alarm(stack, 'Alarm', {
      metric: new cloudwatch.Metric({ namespace: 'Test', metricName: 'Errors' }),
      threshold: 1,
      evaluationPeriods: 1,
    });
    return new GatewayConfigStore(stack, 'Store', {
      stage: 'Test',
      namePrefix: 'app',
      gatewayConfig: validateStageConfig(stagingConfig),
      rollbackAlarms: [alarm],
      lambdaRoot: LAMBDA_ROOT,
      logRetention: logs.RetentionDays.ONE_WEEK,
      logKey: new kms.Key(stack, 'Key'),
      ...changes,
    });
  };

  it("refuses a poll interval below AppConfig's 15 s minimum", () => {
    expect(() => make({ pollInterval: Duration.seconds(10) })).toThrow(
      new Error('GatewayConfigStore: pollInterval must be whole seconds, at least 15, got 10'),
    );
  });

  it('refuses no rollback alarm, a growth factor above 100 and a bake time longer than a day', () => {
    expect(() => make({ rollbackAlarms: [] })).toThrow(
      new Error('GatewayConfigStore: rollbackAlarms must name at least one alarm'),
    );
    expect(() => make({ rollout: { growthFactorPercent: 150 } })).toThrow(
      new Error('GatewayConfigStore: growthFactorPercent must be from 1 to 100, got 150'),
    );
    expect(() => make({ rollout: { finalBakeTime: Duration.hours(25) } })).toThrow(
      new Error('GatewayConfigStore: finalBakeTime must be whole minutes from 0 to 1440, got 1500'),
    );
  });

  it('takes a custom rollout and poll interval', () => {
    const store = make({
      rollout: {
        growthFactorPercent: 25,
        deploymentDuration: Duration.minutes(4),
        finalBakeTime: Duration.minutes(3),
      },
      pollInterval: Duration.seconds(15),
    });
    Template.fromStack(Stack.of(store)).hasResourceProperties('AWS::AppConfig::DeploymentStrategy', {
      GrowthType: 'LINEAR',
      GrowthFactor: 25,
      DeploymentDurationInMinutes: 4,
      FinalBakeTimeInMinutes: 3,
    });
    expect(store.environmentVariables[GatewayEnv.appConfigPollSeconds]).toBe('15');
  });
});
