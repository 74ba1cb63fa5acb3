import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as appconfig from 'aws-cdk-lib/aws-appconfig';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { type GatewayConfig, gatewayConfigDocument } from '../../../runtime/gateway-config';
import { GatewayEnv } from '../../../runtime/gateway-env';
import { HandlerEnv } from '../../../runtime/handler-env';
import { HouseFunction } from '../handlers/house-function';
import { acknowledge, nag } from '../../acknowledgments';

/** Handler folder of the validator under `lambdaRoot`. */
export const CONFIG_VALIDATOR_HANDLER = 'config-validator';
/** Name of the configuration profile holding the gateway document. */
export const GATEWAY_CONFIG_PROFILE_NAME = 'gateway';
/** AppConfig's shortest poll interval for `GetLatestConfiguration`. */
const MIN_POLL_SECONDS = 15;

/** How a new version of the document reaches the tasks. */
export interface GatewayConfigRollout {
  /**
   * Percent of the tasks that get the new version at each step.
   * @default 100 (every task at once: a revoked key must stop working on every task within a minute)
   */
  readonly growthFactorPercent?: number;
  /**
   * Time over which the steps are spread.
   * @default Duration.minutes(0)
   */
  readonly deploymentDuration?: Duration;
  /**
   * Time AppConfig keeps watching the rollback alarms after the last step; a monitor in ALARM in this
   * window rolls the version back. Covers the latency alarm's 2 of 3 five-minute periods.
   * @default Duration.minutes(10)
   */
  readonly finalBakeTime?: Duration;
}

export interface GatewayConfigStoreProps {
  /** Stage name: the AppConfig environment's name and part of the application's. */
  readonly stage: string;
  /** Prefix of the application name, `<namePrefix>-<stage>`. */
  readonly namePrefix: string;
  /** The validated gateway document; the first hosted version is exactly this. */
  readonly gatewayConfig: GatewayConfig;
  /** Alarms whose ALARM state during a deployment or its bake time rolls the new version back. */
  readonly rollbackAlarms: readonly cloudwatch.IAlarm[];
  /** Folder holding `config-validator/index.ts` (the repo's `lambda/`). */
  readonly lambdaRoot: string;
  /** Retention of the validator's log group. */
  readonly logRetention: logs.RetentionDays;
  /**
   * How a new version rolls out.
   * @default every task at once, then a 10-minute bake watching the rollback alarms
   */
  readonly rollout?: GatewayConfigRollout;
  /**
   * How often each task asks AppConfig for a new version (`APPCONFIG_POLL_SECONDS`).
   * @default Duration.seconds(30)
   */
  readonly pollInterval?: Duration;
  /**
   * What happens to the validator's log group when the stack is deleted. RETAIN also makes AppConfig's
   * deletion protection apply to the environment and profile (no deleting what a task read in the
   * last hour); DESTROY bypasses it, so a staging stack can be deleted right after its tasks stop.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /** The stage key the validator's log group is encrypted with (as every log group of the stage). */
  readonly logKey: kms.IKey;
}

/**
 * The stage's gateway document in AWS AppConfig: an application, one environment whose rollback
 * monitors are the given alarms, a freeform hosted profile whose validator is a Lambda that runs the
 * gateway's own `parseGatewayConfig`, and the synthesized document as its first version, deployed by
 * the stack. Later versions (the operator CLI) go through the same validator and strategy.
 */
export class GatewayConfigStore extends Construct {
  readonly application: appconfig.Application;
  readonly environment: appconfig.Environment;
  readonly configuration: appconfig.HostedConfiguration;
  readonly deploymentStrategy: appconfig.DeploymentStrategy;
  readonly validator: HouseFunction;
  /** Role AppConfig assumes to read the rollback alarms (DescribeAlarms on those alarms only). */
  readonly alarmRole: iam.Role;
  /** `application/<app>/environment/<env>/configuration/<profile>`: what a task reads. */
  readonly configurationArn: string;
  /** The gateway's `APPCONFIG_*` environment: IDs, not names, so the IAM resource matches exactly. */
  readonly environmentVariables: Readonly<Record<string, string>>;

  constructor(scope: Construct, id: string, props: GatewayConfigStoreProps) {
    super(scope, id);
    const rollout = resolveRollout(props.rollout);
    const pollSeconds = (props.pollInterval ?? Duration.seconds(30)).toSeconds();
    if (!Number.isInteger(pollSeconds) || pollSeconds < MIN_POLL_SECONDS) {
      throw new Error(
        `GatewayConfigStore: pollInterval must be whole seconds, at least ${MIN_POLL_SECONDS}, got ${pollSeconds}`,
      );
    }
    if (props.rollbackAlarms.length === 0)
      throw new Error('GatewayConfigStore: rollbackAlarms must name at least one alarm');
    const stack = Stack.of(this);
    const deletionProtectionCheck =
      (props.removalPolicy ?? RemovalPolicy.RETAIN) === RemovalPolicy.RETAIN
        ? appconfig.DeletionProtectionCheck.APPLY
        : appconfig.DeletionProtectionCheck.BYPASS;

    this.application = new appconfig.Application(this, 'Application', {
      applicationName: `${props.namePrefix}-${props.stage}`,
      description: `${props.stage}: the gateway document (clients, keys, limits, budgets, models)`,
    });

    this.alarmRole = new iam.Role(this, 'AlarmRole', {
      description: `${props.stage}: AppConfig reads the gateway config's rollback alarms`,
      assumedBy: new iam.ServicePrincipal('appconfig.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
      inlinePolicies: {
        RollbackAlarms: new iam.PolicyDocument({
          statements: [
            new iam.PolicyStatement({
              actions: ['cloudwatch:DescribeAlarms'],
              resources: props.rollbackAlarms.map((a) => a.alarmArn),
            }),
          ],
        }),
      },
    });
    this.environment = new appconfig.Environment(this, 'Environment', {
      application: this.application,
      environmentName: props.stage,
      deletionProtectionCheck,
      description: `${props.stage}: the gateway tasks`,
      monitors: props.rollbackAlarms.map((alarm) =>
        appconfig.Monitor.fromCloudWatchAlarm(alarm, this.alarmRole),
      ),
    });

    acknowledge(this.alarmRole, {
      ids: nag('IAMNoInlinePolicy', 'nist', 'hipaa', 'pci'),
      reason:
        "The role's one inline statement allows cloudwatch:DescribeAlarms on this stage's two rollback alarms only, and it lives and dies with the role AppConfig assumes for this environment: a managed policy could be attached to other principals.",
    });

    this.deploymentStrategy = new appconfig.DeploymentStrategy(this, 'Rollout', {
      description: `${props.stage}: ${rollout.growthFactor}% of tasks every ${rollout.deploymentDuration.toMinutes()} min, ${rollout.finalBakeTime.toMinutes()} min bake watching the rollback alarms`,
      rolloutStrategy: appconfig.RolloutStrategy.linear(rollout),
    });

    this.validator = new HouseFunction(this, 'Validator', {
      lambdaRoot: props.lambdaRoot,
      handlerName: CONFIG_VALIDATOR_HANDLER,
      description: `${props.stage}: AppConfig validator of the gateway document (parseGatewayConfig)`,
      purpose: 'checking each new gateway config version before AppConfig deploys it',
      timeout: Duration.seconds(10),
      memoryMiB: 256,
      environment: { [HandlerEnv.stage]: props.gatewayConfig.stage },
      logRetention: props.logRetention,
      removalPolicy: props.removalPolicy,
      logKey: props.logKey,
    });
    acknowledge(this.validator.function, {
      ids: nag('LambdaDLQ', 'nist', 'hipaa', 'serverless'),
      reason:
        'AppConfig invokes the validator synchronously when a deployment starts and refuses the version when it throws; a dead-letter queue only receives asynchronous invocations, so it would never hold anything.',
    });
    // Made before LambdaValidator.fromFunction, which then keeps it instead of adding its own
    // unconditioned one: only AppConfig acting for this account and this application may invoke.
    this.validator.function.addPermission('AppConfigPermission', {
      principal: new iam.ServicePrincipal('appconfig.amazonaws.com'),
      sourceAccount: stack.account,
      sourceArn: stack.formatArn({
        service: 'appconfig',
        resource: 'application',
        resourceName: `${this.application.applicationId}/*`,
      }),
    });

    this.configuration = new appconfig.HostedConfiguration(this, 'Document', {
      application: this.application,
      name: GATEWAY_CONFIG_PROFILE_NAME,
      description: `${props.stage}: the gateway document; the first version is the one cdk synth validated`,
      type: appconfig.ConfigurationType.FREEFORM,
      deletionProtectionCheck,
      content: appconfig.ConfigurationContent.fromInlineJson(
        JSON.stringify(gatewayConfigDocument(props.gatewayConfig)),
      ),
      validators: [appconfig.LambdaValidator.fromFunction(this.validator.function)],
      deploymentStrategy: this.deploymentStrategy,
      deployTo: [this.environment],
    });
    // AppConfig checks it may invoke the validator when the profile is created.
    this.configuration.node.addDependency(
      this.validator.function.permissionsNode.findChild('AppConfigPermission'),
    );

    const applicationId = this.application.applicationId;
    const environmentId = this.environment.environmentId;
    const profileId = this.configuration.configurationProfileId;
    this.configurationArn = stack.formatArn({
      service: 'appconfig',
      resource: 'application',
      resourceName: `${applicationId}/environment/${environmentId}/configuration/${profileId}`,
    });
    this.environmentVariables = {
      [GatewayEnv.appConfigApplication]: applicationId,
      [GatewayEnv.appConfigEnvironment]: environmentId,
      [GatewayEnv.appConfigProfile]: profileId,
      [GatewayEnv.appConfigPollSeconds]: String(pollSeconds),
    };
  }

  /** Lets `grantee` read the deployed document through the AppConfig Data API, and nothing else. */
  grantRead(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['appconfig:StartConfigurationSession', 'appconfig:GetLatestConfiguration'],
      resourceArns: [this.configurationArn],
    });
  }
}

interface ResolvedRollout {
  readonly growthFactor: number;
  readonly deploymentDuration: Duration;
  readonly finalBakeTime: Duration;
}

function resolveRollout(rollout: GatewayConfigRollout = {}): ResolvedRollout {
  const growthFactor = rollout.growthFactorPercent ?? 100;
  const deploymentDuration = rollout.deploymentDuration ?? Duration.minutes(0);
  const finalBakeTime = rollout.finalBakeTime ?? Duration.minutes(10);
  if (!(growthFactor >= 1 && growthFactor <= 100))
    throw new Error(`GatewayConfigStore: growthFactorPercent must be from 1 to 100, got ${growthFactor}`);
  // AppConfig's limits: DeploymentDurationInMinutes and FinalBakeTimeInMinutes are 0 to 1440.
  for (const [name, d] of Object.entries({ deploymentDuration, finalBakeTime })) {
    const minutes = d.toMinutes({ integral: false });
    if (!Number.isInteger(minutes) || minutes < 0 || minutes > 1440)
      throw new Error(`GatewayConfigStore: ${name} must be whole minutes from 0 to 1440, got ${minutes}`);
  }
  return { growthFactor, deploymentDuration, finalBakeTime };
}
