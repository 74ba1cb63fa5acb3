import { RemovalPolicy, Stack, StackProps, Token, Validations } from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as pipelines from 'aws-cdk-lib/pipelines';
import { Construct } from 'constructs';
import { SHARED_ACKNOWLEDGMENTS, acknowledge, controlTower, nag } from '../acknowledgments';
import { AccessLogBucket } from '../constructs/observability/access-log-bucket';
import { allowLogGroupEncryption, denyGrantsExceptForAwsResources } from '../constructs/secrets/key-policy';
import { APPLICATION } from '../config/project';
import { PipelineConfig, validatePipelineConfig } from '../config/pipeline';
import { StageConfig } from '../config/types';
import { alarmNamePrefix, GatewayStage } from '../stages/gateway-stage';

/** How long the check watches the stage's alarms after the canary passed: the deployment alarms' 10-minute window. */
export const ALARM_WATCH_MINUTES = 10;
/** Days the pipeline keeps its build logs, the artifact bucket's access logs and old artifacts. */
export const PIPELINE_RETENTION_DAYS = 365;
/** Commands the synth step runs: the same checks as a developer's `npm test` and `npm run synth`. */
export const SYNTH_COMMANDS = ['npm ci', 'npm test', 'npm run synth:pipeline'] as const;

export interface GatewayPipelineStackProps extends Omit<StackProps, 'env'> {
  readonly config: PipelineConfig;
  /** Deployed first, then checked by the canary and its alarms. */
  readonly staging: StageConfig;
  /** Deployed after a manual approval. */
  readonly production: StageConfig;
  /** As `GatewayStageProps.gatewayImageDirectory`. */
  readonly gatewayImageDirectory: string;
  /** As `GatewayStageProps.lambdaRoot`. */
  readonly lambdaRoot: string;
}

/**
 * The opt-in delivery pipeline: source → synth with every check → Staging → a check that runs the
 * canary against staging and watches its alarms → manual approval → Production. The stages are the
 * same `GatewayStage` the plain app deploys; the pipeline only adds the check's role to staging.
 */
export class GatewayPipelineStack extends Stack {
  readonly pipeline: pipelines.CodePipeline;
  readonly staging: GatewayStage;
  readonly production: GatewayStage;
  /** The role of staging's check step: it may only assume staging's check role. */
  readonly checkStepRole: iam.Role;
  /** Every CodeBuild project's log group (synth, self-update, asset publishing, the check step). */
  readonly buildLogs: logs.LogGroup;

  constructor(scope: Construct, id: string, props: GatewayPipelineStackProps) {
    const config = validatePipelineConfig(props.config);
    super(scope, id, { ...props, env: config.env });

    const logKey = new kms.Key(this, 'BuildLogsKey', {
      description: `${APPLICATION} pipeline: encrypts the build logs`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    allowLogGroupEncryption(logKey);
    denyGrantsExceptForAwsResources(logKey);
    this.buildLogs = new logs.LogGroup(this, 'BuildLogs', {
      retention: PIPELINE_RETENTION_DAYS as logs.RetentionDays,
      encryptionKey: logKey,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const source = pipelines.CodePipelineSource.connection(config.repository, config.branch, {
      connectionArn: config.connectionArn,
    });
    this.pipeline = new pipelines.CodePipeline(this, 'Pipeline', {
      pipelineName: `${APPLICATION}-gateway`,
      pipelineType: codepipeline.PipelineType.V2,
      // The stages deploy to their own accounts: the artifact bucket's key must be shareable with them.
      crossAccountKeys: true,
      enableKeyRotation: true,
      synth: new pipelines.ShellStep('Synth', { input: source, commands: [...SYNTH_COMMANDS] }),
      codeBuildDefaults: { logging: { cloudWatch: { logGroup: this.buildLogs } } },
      synthCodeBuildDefaults: {
        buildEnvironment: { buildImage: codebuild.LinuxBuildImage.STANDARD_7_0 },
        partialBuildSpec: codebuild.BuildSpec.fromObject({
          phases: { install: { 'runtime-versions': { nodejs: '22' } } },
        }),
      },
      // The gateway image is linux/arm64: build it on ARM rather than under emulation.
      assetPublishingCodeBuildDefaults: {
        buildEnvironment: { buildImage: codebuild.LinuxArmBuildImage.AMAZON_LINUX_2_STANDARD_3_0 },
      },
    });

    acknowledgePipelineInternals(this.pipeline);

    const stageProps = { gatewayImageDirectory: props.gatewayImageDirectory, lambdaRoot: props.lambdaRoot };
    const checkRoleName = `${APPLICATION}-${props.staging.name}-deployment-check`;
    const checkStepRoleName = `${APPLICATION}-${props.staging.name}-check-step`;
    const checkRoleArn = `arn:aws:iam::${props.staging.env.account}:role/${checkRoleName}`;
    this.checkStepRole = new iam.Role(this, 'StagingCheckStepRole', {
      roleName: checkStepRoleName,
      description: `Runs the canary against ${props.staging.name} and watches its alarms, through the stage's check role`,
      assumedBy: new iam.ServicePrincipal('codebuild.amazonaws.com'),
    });
    acknowledge(this.checkStepRole, SHARED_ACKNOWLEDGMENTS.grantInlinePolicy);
    this.checkStepRole.addToPolicy(
      new iam.PolicyStatement({ actions: ['sts:AssumeRole'], resources: [checkRoleArn] }),
    );
    for (const finding of [...ARTIFACT_FINDINGS, ...codeBuildFindings(this, CHECK_STEP_PROJECT)]) {
      Validations.of(this.checkStepRole).acknowledge({
        id: `AwsSolutions-IAM5[${finding}]`,
        reason:
          "What CDK Pipelines gives every CodeBuild step: read the pipeline's artifacts (one bucket and its key), write its own log streams and reports. The step's own permission is sts:AssumeRole on one role, which may only invoke staging's canary and read staging's alarms.",
      });
    }

    this.staging = new GatewayStage(scope, {
      config: props.staging,
      ...stageProps,
      deploymentCheck: {
        roleName: checkRoleName,
        checkStepAccount: config.env.account,
        checkStepRoleName,
      },
    });
    this.pipeline.addStage(this.staging, {
      post: [
        new pipelines.CodeBuildStep('CanaryAndAlarms', {
          role: this.checkStepRole,
          envFromCfnOutputs: { CANARY_FUNCTION: this.staging.gatewayStack.outputs.CanaryFunctionName },
          env: {
            CHECK_ROLE_ARN: checkRoleArn,
            STAGE_REGION: props.staging.env.region,
            ALARM_PREFIX: alarmNamePrefix(props.staging.name),
            WATCH_MINUTES: String(ALARM_WATCH_MINUTES),
          },
          commands: deploymentCheckCommands(),
        }),
      ],
    });

    this.production = new GatewayStage(scope, { config: props.production, ...stageProps });
    this.pipeline.addStage(this.production, {
      pre: [
        new pipelines.ManualApprovalStep('PromoteToProduction', {
          comment: `${props.staging.name} passed the canary and its alarms stayed quiet for ${ALARM_WATCH_MINUTES} minutes: deploy to ${props.production.name}?`,
        }),
      ],
    });
    this.pipeline.buildPipeline();
    hardenArtifactBucket(this, this.pipeline.pipeline.artifactBucket);
  }
}

/**
 * The artifact bucket CDK Pipelines makes (with the cross-account key the stages' accounts may use),
 * brought to the stages' bucket standard through its L1: versioned, access-logged, old artifacts and
 * versions expired, events to EventBridge, and grants on its key only for AWS resources.
 */
function hardenArtifactBucket(scope: Construct, bucket: s3.IBucket): void {
  const cfnBucket = bucket.node.defaultChild as s3.CfnBucket;
  const accessLogs = new AccessLogBucket(scope, 'ArtifactsAccessLogs', {
    retentionDays: PIPELINE_RETENTION_DAYS,
  });
  cfnBucket.versioningConfiguration = { status: 'Enabled' };
  cfnBucket.loggingConfiguration = {
    destinationBucketName: accessLogs.bucket.bucketName,
    logFilePrefix: 'artifacts/',
  };
  cfnBucket.lifecycleConfiguration = {
    rules: [
      { id: 'expire-artifacts', status: 'Enabled', expirationInDays: PIPELINE_RETENTION_DAYS },
      {
        id: 'expire-noncurrent-versions',
        status: 'Enabled',
        noncurrentVersionExpiration: { noncurrentDays: 30 },
      },
      {
        id: 'abort-incomplete-uploads',
        status: 'Enabled',
        abortIncompleteMultipartUpload: { daysAfterInitiation: 1 },
      },
    ],
  };
  cfnBucket.notificationConfiguration = { eventBridgeConfiguration: { eventBridgeEnabled: true } };
  accessLogs.bucket.grantPut(new iam.ServicePrincipal('logging.s3.amazonaws.com'));
  denyGrantsExceptForAwsResources(bucket.encryptionKey as kms.Key);
  acknowledge(bucket, SHARED_ACKNOWLEDGMENTS.noReplication);
  acknowledge(bucket, {
    ids: [controlTower('s3_bucket_object_lock_enabled_check')],
    reason:
      'Pipeline artifacts are rewritten by every run and expire with the lifecycle rules; Object Lock would stop those deletions. Versioning keeps an overwritten artifact for 30 days.',
  });
}

/** CodeBuild projects CDK Pipelines makes, by the logical ID its roles' log and report ARNs name. */
const PIPELINE_PROJECTS = [
  'PipelineBuildSynthCdkBuildProject6BEFA8E6',
  'PipelineUpdatePipelineSelfMutationDAA41400',
];
/** The CodeBuild project of staging's check step. */
const CHECK_STEP_PROJECT = 'PipelineStagingCanaryAndAlarmsF40E7C9A';

/** The artifact-access findings every role CDK Pipelines makes carries: read/write of the pipeline's artifacts. */
const ARTIFACT_FINDINGS = [
  'Action::s3:GetBucket*',
  'Action::s3:GetObject*',
  'Action::s3:List*',
  'Resource::<PipelineArtifactsBucketAEA9A052.Arn>/*',
  'Action::kms:GenerateDataKey*',
  'Action::kms:ReEncrypt*',
];

/**
 * The partition as cdk-nag prints it in a finding: a literal once `@aws-cdk/core:enablePartitionLiterals`
 * resolves it for a stack with a known region, else the `AWS::Partition` reference.
 */
const findingPartition = (stack: Stack): string =>
  Token.isUnresolved(stack.partition) ? '<AWS::Partition>' : stack.partition;

/** The CodeBuild log group and report group findings of one project. */
const codeBuildFindings = (stack: Stack, project: string): string[] => [
  `Resource::arn:${findingPartition(stack)}:logs:${stack.region}:${stack.account}:log-group:/aws/codebuild/<${project}>:*`,
  `Resource::arn:${findingPartition(stack)}:codebuild:${stack.region}:${stack.account}:report-group/<${project}>-*`,
];

/** Findings on what CDK Pipelines generates, each with why it stays; scoped to the pipeline construct. */
function acknowledgePipelineInternals(pipeline: pipelines.CodePipeline): void {
  const stack = Stack.of(pipeline);
  const acknowledgeIam = (findings: readonly string[], reason: string): void => {
    for (const finding of findings)
      Validations.of(pipeline).acknowledge({ id: `AwsSolutions-IAM5[${finding}]`, reason });
  };
  acknowledgeIam(
    [...ARTIFACT_FINDINGS, 'Action::s3:Abort*', 'Action::s3:DeleteObject*'],
    "CDK Pipelines' grants on its own artifact bucket and key (read, write, multipart uploads): objects of that one bucket, the key of that bucket.",
  );
  acknowledgeIam(
    PIPELINE_PROJECTS.flatMap((project) => codeBuildFindings(stack, project)),
    "A CodeBuild project's role writes its own log streams and reports: the log group and report groups are named after the project.",
  );
  acknowledgeIam(
    [
      `Resource::arn:${findingPartition(stack)}:logs:${stack.region}:${stack.account}:log-group:/aws/codebuild/*`,
      `Resource::arn:${findingPartition(stack)}:codebuild:${stack.region}:${stack.account}:report-group/*`,
    ],
    'The asset publishing projects are made per asset by CDK Pipelines and share one role: their log and report groups cannot be named in advance, and stay in this account and region.',
  );
  acknowledgeIam(
    [`Resource::arn:*:iam::${stack.account}:role/*`, 'Resource::*'],
    'Self-mutation and asset publishing assume the CDK bootstrap roles (deploy, file and image publishing; the role policy conditions on the bootstrap role tag) and call cloudformation:DescribeStacks and ecr:GetAuthorizationToken, which have no resource-level permissions.',
  );
  acknowledge(pipeline, {
    ids: ['AwsSolutions-CB3', controlTower('codebuild_project_environment_privileged_check')],
    reason:
      'Privileged mode is on only for the Docker asset publishing project, which builds the gateway image with Docker from this repository.',
  });
  acknowledge(pipeline, {
    ids: nag('CodeBuildProjectSourceRepoUrl', 'hipaa', 'pci'),
    reason:
      "Every project's source is CODEPIPELINE: the pipeline hands it the source artifact it fetched through the CodeStar connection, so no project holds a repository URL or credentials; the rule looks for OAuth on any project.",
  });
  acknowledge(pipeline, SHARED_ACKNOWLEDGMENTS.grantInlinePolicy);
}

/**
 * The check after staging deploys: as staging's check role, invoke the canary once (fail on a function
 * error), then watch staging's alarms for `WATCH_MINUTES`, failing as soon as one is in ALARM.
 */
export function deploymentCheckCommands(): string[] {
  const aws = 'aws --profile stage --region "$STAGE_REGION"';
  return [
    'aws configure set profile.stage.role_arn "$CHECK_ROLE_ARN"',
    'aws configure set profile.stage.credential_source EcsContainer',
    `error=$(${aws} lambda invoke --function-name "$CANARY_FUNCTION" --payload '{}' --cli-binary-format raw-in-base64-out canary.json --query FunctionError --output text)`,
    'cat canary.json; echo',
    'if [ "$error" != "None" ]; then echo "canary failed: $error"; exit 1; fi',
    [
      'for minute in $(seq 1 "$WATCH_MINUTES"); do',
      `  firing=$(${aws} cloudwatch describe-alarms --alarm-name-prefix "$ALARM_PREFIX" --state-value ALARM --query 'MetricAlarms[].AlarmName' --output text);`,
      '  if [ -n "$firing" ]; then echo "in ALARM: $firing"; exit 1; fi;',
      '  echo "minute $minute: no alarm of $ALARM_PREFIX* in ALARM"; sleep 60;',
      'done',
    ].join(' '),
  ];
}
