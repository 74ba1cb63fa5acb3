import {
  Annotations,
  CfnOutput,
  DefaultStackSynthesizer,
  Fn,
  RemovalPolicy,
  Stack,
  StackProps,
  Stage,
  StageProps,
  Tags,
} from 'aws-cdk-lib';
import { Platform } from 'aws-cdk-lib/aws-ecr-assets';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { createHash } from 'node:crypto';
import type { GatewayConfig } from '../../runtime/gateway-config';
import { APPLICATION, PLACEHOLDER_CLIENT_KEYS, RUNBOOK_URL } from '../config/project';
import { StageConfig } from '../config/types';
import { validateStageConfig } from '../config/validate';
import { StageBudget } from '../constructs/budgets/stage-budget';
import { GatewayCache } from '../constructs/cache/cache';
import { DeploymentCheckAccess } from '../constructs/deployment-check/deployment-check-access';
import { GatewayConfigStore } from '../constructs/gateway-config/gateway-config';
import { GatewayService } from '../constructs/gateway-service/gateway-service';
import { GatewayHandlers } from '../constructs/handlers/gateway-handlers';
import { Network } from '../constructs/network/network';
import { AccessLogBucket } from '../constructs/observability/access-log-bucket';
import { Observability } from '../constructs/observability/observability';
import { OnCallTopic } from '../constructs/observability/on-call-topic';
import { StageSecrets } from '../constructs/secrets/secrets';
import { SpendLedger } from '../constructs/spend-ledger/spend-ledger';

/** Tag keys on every resource; `Stage` is also the cost-allocation tag the stage's budget counts. */
export const TAG_KEYS = { application: 'Application', stage: 'Stage' } as const;

export interface GatewayStageProps extends Omit<StageProps, 'env' | 'stageName'> {
  /** The stage config; validated here, before any construct is made. */
  readonly config: StageConfig;
  /** Folder with the gateway image's build context (`bundleGateway`'s output: Dockerfile and index.js). */
  readonly gatewayImageDirectory: string;
  /** Folder with one `<handler>/index.ts` per Lambda handler. */
  readonly lambdaRoot: string;
  /**
   * A pipeline's post-deployment check (`bin/pipeline.ts`): the stage gets a role, assumable only by
   * the check step's role, that may invoke the canary and read the stage's alarms.
   * @default none (deployed with `cdk deploy`)
   */
  readonly deploymentCheck?: DeploymentCheckProps;
}

export interface DeploymentCheckProps {
  /** Name of the role the stage makes for the check. */
  readonly roleName: string;
  /** Account of the pipeline's check step role. */
  readonly checkStepAccount: string;
  /** Name of the pipeline's check step role, the only principal that may assume the stage's role. */
  readonly checkStepRoleName: string;
}

/** One environment (staging or production): its config validated, its stack composed, everything tagged. */
export class GatewayStage extends Stage {
  readonly gatewayStack: GatewayStack;

  constructor(scope: Construct, props: GatewayStageProps) {
    const gatewayConfig = validateStageConfig(props.config);
    super(scope, props.config.name, { ...props, env: props.config.env });
    this.gatewayStack = new GatewayStack(this, 'Gateway', {
      config: props.config,
      gatewayConfig,
      gatewayImageDirectory: props.gatewayImageDirectory,
      lambdaRoot: props.lambdaRoot,
      deploymentCheck: props.deploymentCheck,
      terminationProtection: props.config.resilience.terminationProtection,
      description: `${APPLICATION} ${props.config.name}: OpenAI gateway, handlers, alarms and budget`,
    });
    Tags.of(this).add(TAG_KEYS.application, APPLICATION);
    Tags.of(this).add(TAG_KEYS.stage, props.config.name);
    warnOnPlaceholderKeys(this.gatewayStack, gatewayConfig);
  }
}

export interface GatewayStackProps extends StackProps {
  readonly config: StageConfig;
  /** `config.gateway`, validated, with defaults and the stage name. */
  readonly gatewayConfig: GatewayConfig;
  readonly gatewayImageDirectory: string;
  readonly lambdaRoot: string;
  /** @default none */
  readonly deploymentCheck?: DeploymentCheckProps;
}

const REMOVAL_POLICIES = { retain: RemovalPolicy.RETAIN, destroy: RemovalPolicy.DESTROY } as const;

/** Prefix of every alarm name of a stage (`Observability` appends the alarm's id). */
export const alarmNamePrefix = (stage: string): string => `${APPLICATION}-${stage}-`;

/**
 * Everything of one stage in one stack: the secret rotation schedule, the cache's security group rules
 * and the secrets' resource policies all point both ways between the data and the compute, which
 * separate stacks would turn into cross-stack cycles. Stateful resources carry `config.resilience.removalPolicy`.
 */
export class GatewayStack extends Stack {
  readonly network: Network;
  readonly secrets: StageSecrets;
  readonly cache: GatewayCache;
  readonly spendLedger: SpendLedger;
  readonly gateway: GatewayService;
  readonly handlers: GatewayHandlers;
  readonly onCall: OnCallTopic;
  readonly observability: Observability;
  readonly gatewayConfigStore: GatewayConfigStore;
  readonly budget: StageBudget;
  /** The stack's outputs by name (docs/deploying.md lists them). */
  readonly outputs: Readonly<Record<string, CfnOutput>>;

  constructor(scope: Construct, id: string, props: GatewayStackProps) {
    super(scope, id, props);
    const { config, gatewayConfig } = props;
    const removalPolicy = REMOVAL_POLICIES[config.resilience.removalPolicy];
    const logRetention = config.logRetentionDays as logs.RetentionDays;

    this.secrets = new StageSecrets(this, 'Secrets', { stage: config.name, removalPolicy });
    this.network = new Network(this, 'Network', {
      settings: config.network,
      flowLogRetention: logRetention,
      flowLogKey: this.secrets.key,
      removalPolicy,
    });
    const vpc = this.network.vpc;
    const accessLogs = new AccessLogBucket(this, 'AccessLogs', {
      retentionDays: config.resilience.accessLogDays,
      removalPolicy,
    });

    this.cache = new GatewayCache(this, 'Cache', {
      settings: config.cache,
      vpc,
      authSecret: this.secrets.redisAuth,
      encryptionKey: this.secrets.key,
      removalPolicy,
    });

    const { deletionProtection } = config.resilience;
    this.spendLedger = new SpendLedger(this, 'SpendLedger', {
      encryptionKey: this.secrets.key,
      removalPolicy,
      deletionProtection,
    });

    this.gateway = new GatewayService(this, 'Gateway', {
      settings: config.service,
      vpc,
      image: ecs.ContainerImage.fromAsset(props.gatewayImageDirectory, { platform: Platform.LINUX_ARM64 }),
      gatewayConfig,
      apiKeySecret: this.secrets.apiKey,
      redisAuthSecret: this.secrets.redisAuth,
      redisUrl: this.cache.url,
      spendLedgerTableName: this.spendLedger.tableName,
      openaiBaseUrl: config.openaiBaseUrl,
      accessLogBucket: accessLogs.bucket,
      logRetention,
      logKey: this.secrets.key,
      wafLogName: `${APPLICATION}-${config.name}`,
      removalPolicy,
      deletionProtection,
    });
    this.cache.allowFrom(this.gateway.connections, 'Gateway tasks');
    this.spendLedger.grantGatewayAccess(this.gateway.taskDefinition.taskRole);

    this.handlers = new GatewayHandlers(this, 'Handlers', {
      stage: config.name,
      lambdaRoot: props.lambdaRoot,
      gatewayConfig,
      settings: config.handlers,
      openaiBaseUrl: config.openaiBaseUrl,
      apiKeySecret: this.secrets.apiKey,
      adminKeySecret: this.secrets.adminKey,
      spendLedgerTableName: this.spendLedger.tableName,
      encryptionKey: this.secrets.key,
      accessLogBucket: accessLogs.bucket,
      logRetention,
      removalPolicy,
    });

    this.spendLedger.grantReconciliation(this.handlers.spendReconciliation.role);

    const taskRoleArn = this.gateway.taskDefinition.taskRole.roleArn;
    const cloudFormationRoleArn = Fn.sub(
      (this.synthesizer as DefaultStackSynthesizer).cloudFormationExecutionRoleArn,
    );
    this.secrets.restrictReadsTo({
      apiKey: [
        taskRoleArn,
        this.handlers.canary.role.roleArn,
        this.handlers.keyRotation.role.roleArn,
        this.handlers.batch.role.roleArn,
      ],
      adminKey: [this.handlers.spendReconciliation.role.roleArn, this.handlers.keyRotation.role.roleArn],
      // CloudFormation resolves the cache's AUTH token dynamic reference with its execution role.
      redisAuth: [taskRoleArn, cloudFormationRoleArn],
    });

    this.onCall = new OnCallTopic(this, 'OnCall', {
      settings: config.onCall,
      stage: config.name,
      removalPolicy,
    });
    this.observability = new Observability(this, 'Observability', {
      stage: config.name,
      alarmNamePrefix: APPLICATION,
      runbookUrl: RUNBOOK_URL,
      topic: this.onCall.topic,
      thresholds: config.alarms,
      loadBalancer: this.gateway.loadBalancer,
      targetGroup: this.gateway.targetGroup,
      service: this.gateway.service,
      cacheClusterIds: this.cache.memberClusterIds,
      spendLedgerTable: this.spendLedger.table,
      handlers: this.handlers.all,
      batchDeadLetterQueue: this.handlers.batchDeadLetterQueue,
      onCallDeadLetterQueue: this.onCall.deadLetterQueue,
      budget: gatewayConfig.budget,
      clientIds: gatewayConfig.clients.map((c) => c.id),
    });
    this.gateway.rollBackOnAlarms(this.observability.deploymentAlarms);
    // After Observability: its gateway 5xx and latency alarms roll a bad config version back. The
    // container keeps GATEWAY_CONFIG_JSON as the document it starts on when AppConfig is unreadable.
    this.gatewayConfigStore = new GatewayConfigStore(this, 'GatewayConfig', {
      stage: config.name,
      namePrefix: APPLICATION,
      gatewayConfig,
      rollbackAlarms: [...this.observability.deploymentAlarms],
      lambdaRoot: props.lambdaRoot,
      logRetention,
      removalPolicy,
      logKey: this.secrets.key,
    });
    for (const [name, value] of Object.entries(this.gatewayConfigStore.environmentVariables))
      this.gateway.container.addEnvironment(name, value);
    this.gatewayConfigStore.grantRead(this.gateway.taskDefinition.taskRole);

    this.budget = new StageBudget(this, 'Budget', {
      settings: config.infraBudget,
      budgetName: `${APPLICATION}-${config.name}-monthly`,
      tagKey: TAG_KEYS.stage,
      tagValue: config.name,
      topic: this.onCall.topic,
    });

    const outputs: Record<string, [string, string]> = {
      GatewayUrl: [this.gateway.url, 'Base URL of the gateway (append /v1)'],
      ApiKeySecretArn: [
        this.secrets.apiKey.secretArn,
        'Put {"apiKey","serviceAccountId"} here (docs/deploying.md)',
      ],
      AdminKeySecretArn: [this.secrets.adminKey.secretArn, 'Put {"adminKey"} here (docs/deploying.md)'],
      BatchBucketName: [this.handlers.batchBucket.bucketName, 'Upload batch JSONL files under input/'],
      OnCallTopicArn: [this.onCall.topic.topicArn, 'Alarms and budget notifications'],
      DashboardName: [this.observability.dashboard.dashboardName, 'CloudWatch dashboard of the stage'],
      CanaryFunctionName: [this.handlers.canary.function.functionName, 'Invoke to run the canary once'],
      AppConfigApplicationId: [
        this.gatewayConfigStore.application.applicationId,
        'AppConfig application of the gateway document',
      ],
      AppConfigEnvironmentId: [this.gatewayConfigStore.environment.environmentId, 'AppConfig environment'],
      AppConfigProfileId: [
        this.gatewayConfigStore.configuration.configurationProfileId,
        'AppConfig configuration profile (hosted, validated)',
      ],
      AppConfigDeploymentStrategyId: [
        this.gatewayConfigStore.deploymentStrategy.deploymentStrategyId,
        'AppConfig deployment strategy a new version is deployed with',
      ],
    };
    this.outputs = Object.fromEntries(
      Object.entries(outputs).map(([id, [value, description]]) => [
        id,
        new CfnOutput(this, id, { value, description }),
      ]),
    );

    if (props.deploymentCheck) {
      new DeploymentCheckAccess(this, 'DeploymentCheck', {
        ...props.deploymentCheck,
        canary: this.handlers.canary.function,
        alarmNamePrefix: alarmNamePrefix(config.name),
      });
    }
  }
}

/** The example configs' client keys are public; a stage that still accepts one gets a synth warning. */
function warnOnPlaceholderKeys(stack: Stack, gatewayConfig: GatewayConfig): void {
  const placeholderHashes = new Map(
    Object.values(PLACEHOLDER_CLIENT_KEYS).map((key) => [
      createHash('sha256').update(key).digest('hex'),
      key,
    ]),
  );
  for (const client of gatewayConfig.clients) {
    const key = placeholderHashes.get(client.keySha256);
    if (key) {
      Annotations.of(stack).addWarningV2(
        '@blueprint:placeholderClientKey',
        `client "${client.id}" accepts the documented placeholder key "${key}": put the SHA-256 of a real key in its keySha256 before deploying`,
      );
    }
  }
}
