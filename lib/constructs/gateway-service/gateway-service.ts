import { Duration, RemovalPolicy, Size, Validations } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { type GatewayConfig, gatewayConfigDocument } from '../../../runtime/gateway-config';
import { GATEWAY_CONTAINER_PORT, GatewayEnv, GatewayPaths } from '../../../runtime/gateway-env';
import {
  SHARED_ACKNOWLEDGMENTS,
  acknowledge,
  acknowledgeLogRetention,
  controlTower,
  nag,
} from '../../acknowledgments';
import { SettingsProblems, isIntegerIn } from '../settings';
import { GatewayWebAcl, WAF_LOG_GROUP_PREFIX, checkWafRateLimit } from './waf';

/** Extra time the gateway keeps idle connections open beyond the ALB idle timeout, so the ALB closes first. */
export const KEEP_ALIVE_MARGIN_MS = 5_000;
/** Time the gateway's own shutdown leaves before ECS's SIGKILL. */
export const SHUTDOWN_MARGIN_MS = 5_000;
/** How often the gateway writes its aggregated EMF metrics. */
export const METRICS_FLUSH_MS = 60_000;
/** How often each task writes its aggregated spend increments to the ledger: the loss window of a task that dies. */
export const LEDGER_FLUSH_MS = 1_000;
/** Fargate's longest stop timeout. */
export const MAX_STOP_TIMEOUT_SECONDS = 120;
/** The container's user: the node base image's unprivileged `node` (uid and gid 1000), as service/Dockerfile's `USER node`. */
export const GATEWAY_CONTAINER_USER = '1000:1000';

/** The gateway's ECS service and its load balancer: `StageConfig.service`. */
export interface GatewayServiceSettings {
  /** Fargate task CPU units (256, 512, 1024, 2048, 4096). @default 1024 */
  readonly cpu: number;
  /** Fargate task memory in MiB; must be a size Fargate offers for `cpu`. @default 2048 */
  readonly memoryMiB: number;
  /** Fewest running tasks, also the desired count at creation. Production needs at least 2 (one per AZ). @default 3 */
  readonly minTasks: number;
  /** Most running tasks autoscaling may start, at least `minTasks`. @default 12 */
  readonly maxTasks: number;
  /** Average CPU percent the CPU scaling policy holds, 10 to 90. @default 50 */
  readonly targetCpuPercent: number;
  /** ALB requests per target per minute the request scaling policy holds. @default 1000 */
  readonly targetRequestsPerTarget: number;
  /**
   * Internet-facing ALB in the public subnets (needs `certificateArn`), or internal in the private subnets.
   * @default true
   */
  readonly internetFacing: boolean;
  /** CIDR ranges allowed to reach the ALB listener(s), at least one. @default ['0.0.0.0/0'] */
  readonly ingressCidrs: readonly string[];
  /**
   * ACM certificate for the HTTPS listener on 443 (plus a redirect from 80), in the stage's account and
   * region. Without it the ALB listens on plain HTTP on 80, which the check allows only for an internal ALB.
   * @default none
   */
  readonly certificateArn?: string;
  /**
   * ALB idle timeout in seconds, 60 to 4000; long enough for a streamed completion between keep-alive
   * comments. The gateway's keep-alive timeout is set 5 s above it.
   * @default 120
   */
  readonly idleTimeoutSeconds: number;
  /**
   * Seconds ECS waits after SIGTERM before SIGKILL (Fargate allows up to 120); the gateway's shutdown
   * timeout is set 5 s below it.
   * @default 60
   */
  readonly stopTimeoutSeconds: number;
  /** Seconds the ALB lets in-flight requests finish on a deregistering task, 0 to 3600. @default 60 */
  readonly deregistrationDelaySeconds: number;
  /** WAF rate-based rule: most requests one client IP may make in any 5 minutes (at least 10). @default 3000 */
  readonly wafRequestsPer5MinPerIp: number;
}

/**
 * What `lib/config/base.ts` starts every stage from. Internet-facing needs a certificate, which is the
 * stage's own: the stage's delta gives `certificateArn`.
 */
export const DEFAULT_GATEWAY_SERVICE_SETTINGS: GatewayServiceSettings = {
  cpu: 1024,
  memoryMiB: 2048,
  minTasks: 3,
  maxTasks: 12,
  targetCpuPercent: 50,
  targetRequestsPerTarget: 1000,
  internetFacing: true,
  ingressCidrs: ['0.0.0.0/0'],
  idleTimeoutSeconds: 120,
  stopTimeoutSeconds: 60,
  deregistrationDelaySeconds: 60,
  wafRequestsPer5MinPerIp: 3000,
};

/** Fargate CPU units to the memory sizes (MiB) Fargate accepts with them. */
const FARGATE_MEMORY: Readonly<Record<number, (memoryMiB: number) => boolean>> = {
  256: (m) => [512, 1024, 2048].includes(m),
  512: (m) => m >= 1024 && m <= 4096 && m % 1024 === 0,
  1024: (m) => m >= 2048 && m <= 8192 && m % 1024 === 0,
  2048: (m) => m >= 4096 && m <= 16384 && m % 1024 === 0,
  4096: (m) => m >= 8192 && m <= 30720 && m % 1024 === 0,
};

const CIDR = /^(\d{1,3}\.){3}\d{1,3}\/\d{1,2}$/;
const CERTIFICATE_ARN = /^arn:aws:acm:([a-z0-9-]+):(\d{12}):certificate\/[A-Za-z0-9-]+$/;

/** The region and account of an ACM certificate ARN, or `undefined` when `arn` is not one. */
export function certificateLocation(arn: string): { region: string; account: string } | undefined {
  const match = CERTIFICATE_ARN.exec(arn);
  return match ? { region: match[1], account: match[2] } : undefined;
}

type ServiceField = (name: keyof GatewayServiceSettings) => string;

/** Records every problem of `settings`. */
export function checkGatewayServiceSettings(
  settings: GatewayServiceSettings,
  problems: SettingsProblems,
): void {
  const f: ServiceField = (name) => problems.field(name);
  checkTaskSize(settings, problems, f);
  checkScaling(settings, problems, f);
  checkListener(settings, problems, f);
  checkTimeouts(settings, problems, f);
  checkWafRateLimit(settings.wafRequestsPer5MinPerIp, f('wafRequestsPer5MinPerIp'), problems);
}

function checkTaskSize(s: GatewayServiceSettings, problems: SettingsProblems, f: ServiceField): void {
  const memoryFits = FARGATE_MEMORY[s.cpu];
  if (!memoryFits) {
    problems.add(`${f('cpu')} must be one of ${Object.keys(FARGATE_MEMORY).join(', ')}, got ${s.cpu}`);
    return;
  }
  problems.expect(
    memoryFits(s.memoryMiB),
    () => `${f('memoryMiB')} ${s.memoryMiB} is not a Fargate size for ${f('cpu')} ${s.cpu}`,
  );
}

function checkScaling(s: GatewayServiceSettings, problems: SettingsProblems, f: ServiceField): void {
  problems.expect(
    isIntegerIn(s.minTasks, 1),
    () => `${f('minTasks')} must be an integer of at least 1, got ${s.minTasks}`,
  );
  problems.expect(
    Number.isInteger(s.maxTasks) && s.maxTasks >= s.minTasks,
    () => `${f('maxTasks')} (${s.maxTasks}) must be an integer of at least ${f('minTasks')} (${s.minTasks})`,
  );
  problems.expect(
    s.targetCpuPercent >= 10 && s.targetCpuPercent <= 90,
    () => `${f('targetCpuPercent')} must be from 10 to 90, got ${s.targetCpuPercent}`,
  );
  problems.expect(
    isIntegerIn(s.targetRequestsPerTarget, 1),
    () => `${f('targetRequestsPerTarget')} must be a positive integer, got ${s.targetRequestsPerTarget}`,
  );
}

function checkListener(s: GatewayServiceSettings, problems: SettingsProblems, f: ServiceField): void {
  problems.expect(
    !s.internetFacing || Boolean(s.certificateArn),
    () =>
      `${f('certificateArn')} is required when ${f('internetFacing')} is true: callers send API keys in every request`,
  );
  const { certificateArn } = s;
  if (certificateArn !== undefined) {
    problems.expect(
      certificateLocation(certificateArn) !== undefined,
      () => `${f('certificateArn')} must be an ACM certificate ARN, got "${certificateArn}"`,
    );
  }
  problems.expect(s.ingressCidrs.length > 0, () => `${f('ingressCidrs')} must name at least one CIDR range`);
  s.ingressCidrs.forEach((cidr, i) =>
    problems.expect(
      CIDR.test(cidr),
      () => `${f('ingressCidrs')}[${i}] must be an IPv4 CIDR such as 10.0.0.0/8, got "${cidr}"`,
    ),
  );
}

function checkTimeouts(s: GatewayServiceSettings, problems: SettingsProblems, f: ServiceField): void {
  const { idleTimeoutSeconds: idle, stopTimeoutSeconds: stop, deregistrationDelaySeconds: delay } = s;
  const shutdownMarginSeconds = SHUTDOWN_MARGIN_MS / 1000;
  problems.expect(
    isIntegerIn(idle, 60, 4000),
    () => `${f('idleTimeoutSeconds')} must be an integer from 60 to 4000, got ${idle}`,
  );
  problems.expect(
    Number.isInteger(stop) && stop > shutdownMarginSeconds && stop <= MAX_STOP_TIMEOUT_SECONDS,
    () =>
      `${f('stopTimeoutSeconds')} must be an integer above ${shutdownMarginSeconds} and at most ${MAX_STOP_TIMEOUT_SECONDS}, got ${stop}`,
  );
  problems.expect(
    isIntegerIn(delay, 0, 3600),
    () => `${f('deregistrationDelaySeconds')} must be an integer from 0 to 3600, got ${delay}`,
  );
}

export interface GatewayServiceProps {
  readonly settings: GatewayServiceSettings;
  readonly vpc: ec2.IVpc;
  /** The gateway image (built from `service/` by `bundleGateway`). */
  readonly image: ecs.ContainerImage;
  /** The validated gateway document; it reaches the container as JSON and holds only key hashes. */
  readonly gatewayConfig: GatewayConfig;
  /** Secret with the OpenAI project key; the task role may read it. */
  readonly apiKeySecret: secretsmanager.ISecret;
  /** Secret with the cache AUTH token; the task role may read it. */
  readonly redisAuthSecret: secretsmanager.ISecret;
  /** `rediss://host:port` of the cache. */
  readonly redisUrl: string;
  /** Name of the stage's spend ledger table; the caller grants the task role its access (`SpendLedger.grantGatewayAccess`). */
  readonly spendLedgerTableName: string;
  /**
   * Upstream base URL including `/v1`.
   * @default 'https://api.openai.com/v1'
   */
  readonly openaiBaseUrl?: string;
  /** Bucket for ALB access logs (SSE-S3, as ALB log delivery requires). */
  readonly accessLogBucket: s3.IBucket;
  /** Retention of the container and WAF log groups. */
  readonly logRetention: logs.RetentionDays;
  /** Key that encrypts the container and WAF log groups; its policy must let CloudWatch Logs use it. */
  readonly logKey: kms.IKey;
  /** Unique in the account and region: the WAF log group is `aws-waf-logs-<name>`. */
  readonly wafLogName: string;
  /**
   * What happens to the log group when the stack is deleted.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Deletion protection of the load balancer.
   * @default true
   */
  readonly deletionProtection?: boolean;
}

/**
 * The gateway: ECS Fargate tasks in the private subnets behind an Application Load Balancer with WAF,
 * access logs, a readiness health check, CPU and request-count autoscaling, and a deployment circuit
 * breaker that rolls back (plus deployment alarms, `rollBackOnAlarms`). The container gets ARNs, never secret values.
 */
export class GatewayService extends Construct {
  readonly cluster: ecs.Cluster;
  readonly service: ecs.FargateService;
  readonly taskDefinition: ecs.FargateTaskDefinition;
  /** The gateway container, for environment added after the service (`addEnvironment`). */
  readonly container: ecs.ContainerDefinition;
  readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  readonly targetGroup: elbv2.ApplicationTargetGroup;
  readonly logGroup: logs.LogGroup;
  readonly webAcl: GatewayWebAcl;
  /** `https://...` or `http://...` of the ALB. */
  readonly url: string;

  constructor(scope: Construct, id: string, props: GatewayServiceProps) {
    super(scope, id);
    const problems = new SettingsProblems();
    checkGatewayServiceSettings(props.settings, problems);
    problems.throwIfAny('GatewayService');
    const { settings } = props;
    const idleTimeout = Duration.seconds(settings.idleTimeoutSeconds);
    const stopTimeout = Duration.seconds(settings.stopTimeoutSeconds);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const deletionProtection = props.deletionProtection ?? true;

    this.cluster = new ecs.Cluster(this, 'Cluster', {
      vpc: props.vpc,
      containerInsightsV2: ecs.ContainerInsights.ENABLED,
    });

    this.taskDefinition = new ecs.FargateTaskDefinition(this, 'Task', {
      cpu: settings.cpu,
      memoryLimitMiB: settings.memoryMiB,
      runtimePlatform: {
        cpuArchitecture: ecs.CpuArchitecture.ARM64,
        operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
      },
    });
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention,
      encryptionKey: props.logKey,
      removalPolicy,
    });
    acknowledgeLogRetention(this.logGroup, props.logRetention);

    const environment: Record<string, string> = {
      [GatewayEnv.port]: String(GATEWAY_CONTAINER_PORT),
      [GatewayEnv.configJson]: JSON.stringify(gatewayConfigDocument(props.gatewayConfig)),
      [GatewayEnv.openaiBaseUrl]: props.openaiBaseUrl ?? 'https://api.openai.com/v1',
      [GatewayEnv.openaiApiKeySecretArn]: props.apiKeySecret.secretArn,
      [GatewayEnv.redisUrl]: props.redisUrl,
      [GatewayEnv.redisAuthSecretArn]: props.redisAuthSecret.secretArn,
      [GatewayEnv.keepAliveTimeoutMs]: String(idleTimeout.toMilliseconds() + KEEP_ALIVE_MARGIN_MS),
      [GatewayEnv.shutdownTimeoutMs]: String(stopTimeout.toMilliseconds() - SHUTDOWN_MARGIN_MS),
      [GatewayEnv.metricsFlushMs]: String(METRICS_FLUSH_MS),
      [GatewayEnv.spendLedgerTable]: props.spendLedgerTableName,
      [GatewayEnv.ledgerFlushMs]: String(LEDGER_FLUSH_MS),
      // The most tasks autoscaling may run: under the fallback each task enforces 1/N of the limits.
      [GatewayEnv.replicas]: String(settings.maxTasks),
    };
    const container = this.taskDefinition.addContainer('gateway', {
      image: props.image,
      essential: true,
      user: GATEWAY_CONTAINER_USER,
      // The hard limit is the task's memory: the one container may use all of it, and no more.
      memoryLimitMiB: settings.memoryMiB,
      portMappings: [{ containerPort: GATEWAY_CONTAINER_PORT, protocol: ecs.Protocol.TCP }],
      environment,
      logging: ecs.LogDrivers.awsLogs({
        logGroup: this.logGroup,
        streamPrefix: 'gateway',
        mode: ecs.AwsLogDriverMode.NON_BLOCKING,
        maxBufferSize: Size.mebibytes(25),
      }),
      stopTimeout,
      readonlyRootFilesystem: true,
      healthCheck: {
        command: [
          'CMD',
          'node',
          '-e',
          `fetch('http://127.0.0.1:${GATEWAY_CONTAINER_PORT}${GatewayPaths.health}').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))`,
        ],
        interval: Duration.seconds(15),
        timeout: Duration.seconds(3),
        startPeriod: Duration.seconds(10),
        retries: 3,
      },
    });
    this.container = container;
    Validations.of(this.taskDefinition).acknowledge({
      id: 'AwsSolutions-ECS2',
      reason:
        'The environment holds only ARNs, endpoints, timeouts and the validated gateway config (client key SHA-256 hashes, no keys); secret values are read at run time from Secrets Manager by ARN.',
    });
    Validations.of(this.taskDefinition.obtainExecutionRole()).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'The execution role needs ecr:GetAuthorizationToken, which has no resource-level permissions; image pulls and log writes are scoped to the repository and log group.',
    });
    props.apiKeySecret.grantRead(this.taskDefinition.taskRole);
    props.redisAuthSecret.grantRead(this.taskDefinition.taskRole);
    acknowledge(this.taskDefinition.taskRole, SHARED_ACKNOWLEDGMENTS.grantInlinePolicy);
    acknowledge(this.taskDefinition.obtainExecutionRole(), SHARED_ACKNOWLEDGMENTS.grantInlinePolicy);

    this.loadBalancer = new elbv2.ApplicationLoadBalancer(this, 'Alb', {
      vpc: props.vpc,
      internetFacing: settings.internetFacing,
      vpcSubnets: {
        subnetType: settings.internetFacing ? ec2.SubnetType.PUBLIC : ec2.SubnetType.PRIVATE_WITH_EGRESS,
      },
      idleTimeout,
      dropInvalidHeaderFields: true,
      deletionProtection,
    });
    this.loadBalancer.logAccessLogs(props.accessLogBucket, 'alb');
    this.webAcl = new GatewayWebAcl(this, 'Waf', {
      loadBalancerArn: this.loadBalancer.loadBalancerArn,
      requestsPer5MinPerIp: settings.wafRequestsPer5MinPerIp,
      logGroupName: `${WAF_LOG_GROUP_PREFIX}${props.wafLogName}`,
      logRetention: props.logRetention,
      logKey: props.logKey,
      removalPolicy,
    });
    if (!deletionProtection) {
      acknowledge(this.loadBalancer, {
        ids: [
          ...nag('ELBDeletionProtectionEnabled', 'nist', 'hipaa'),
          controlTower('elbv2_deletion_protection_enabled_check'),
        ],
        reason:
          'Deletion protection is off by stage config (resilience.deletionProtection false: staging, a disposable stage): its load balancer is meant to go with the stack; production keeps it on.',
      });
    }

    this.service = new ecs.FargateService(this, 'Service', {
      cluster: this.cluster,
      taskDefinition: this.taskDefinition,
      desiredCount: settings.minTasks,
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      circuitBreaker: { enable: true, rollback: true },
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      assignPublicIp: false,
      healthCheckGracePeriod: Duration.seconds(30),
      availabilityZoneRebalancing: ecs.AvailabilityZoneRebalancing.ENABLED,
    });

    this.targetGroup = new elbv2.ApplicationTargetGroup(this, 'Targets', {
      vpc: props.vpc,
      port: GATEWAY_CONTAINER_PORT,
      protocol: elbv2.ApplicationProtocol.HTTP,
      targetType: elbv2.TargetType.IP,
      targets: [
        this.service.loadBalancerTarget({
          containerName: container.containerName,
          containerPort: GATEWAY_CONTAINER_PORT,
        }),
      ],
      deregistrationDelay: Duration.seconds(settings.deregistrationDelaySeconds),
      healthCheck: {
        path: GatewayPaths.ready,
        healthyHttpCodes: '200',
        interval: Duration.seconds(10),
        timeout: Duration.seconds(5),
        healthyThresholdCount: 2,
        unhealthyThresholdCount: 3,
      },
    });

    if (settings.certificateArn) {
      const https = this.loadBalancer.addListener('Https', {
        port: 443,
        protocol: elbv2.ApplicationProtocol.HTTPS,
        certificates: [acm.Certificate.fromCertificateArn(this, 'Certificate', settings.certificateArn)],
        sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS,
        defaultTargetGroups: [this.targetGroup],
        open: false,
      });
      const redirect = this.loadBalancer.addListener('HttpRedirect', {
        port: 80,
        protocol: elbv2.ApplicationProtocol.HTTP,
        defaultAction: elbv2.ListenerAction.redirect({ protocol: 'HTTPS', port: '443', permanent: true }),
        open: false,
      });
      acknowledge(redirect, {
        ids: nag('ELBv2ACMCertificateRequired', 'nist', 'hipaa', 'pci'),
        reason:
          'The port-80 listener only answers a permanent redirect to HTTPS on 443: it forwards nothing, so it has no certificate to carry.',
      });
      for (const cidr of settings.ingressCidrs) {
        https.connections.allowDefaultPortFrom(ec2.Peer.ipv4(cidr), `HTTPS from ${cidr}`);
        redirect.connections.allowDefaultPortFrom(ec2.Peer.ipv4(cidr), `HTTP to HTTPS redirect from ${cidr}`);
      }
      this.url = `https://${this.loadBalancer.loadBalancerDnsName}`;
    } else {
      const http = this.loadBalancer.addListener('Http', {
        port: 80,
        protocol: elbv2.ApplicationProtocol.HTTP,
        defaultTargetGroups: [this.targetGroup],
        open: false,
      });
      for (const cidr of settings.ingressCidrs)
        http.connections.allowDefaultPortFrom(ec2.Peer.ipv4(cidr), `HTTP from ${cidr}`);
      acknowledge(http, {
        ids: [
          ...nag('ELBv2ACMCertificateRequired', 'nist', 'hipaa', 'pci'),
          ...nag('ALBHttpToHttpsRedirection', 'nist', 'hipaa', 'pci'),
          controlTower('alb_http_to_https_redirection_check'),
        ],
        reason:
          'Plain HTTP only on an internal ALB (validation refuses it internet-facing) reachable from the configured private CIDRs: a private certificate needs ACM Private CA at about 400 USD a month; the choice and its risk are in docs/threat-model.md ("Staging over plain HTTP"). Set service.certificateArn to get HTTPS.',
      });
      this.url = `http://${this.loadBalancer.loadBalancerDnsName}`;
    }

    if (settings.ingressCidrs.includes('0.0.0.0/0')) {
      Validations.of(this.loadBalancer).acknowledge({
        id: 'AwsSolutions-EC23',
        reason:
          'Public API by stage config (service.ingressCidrs 0.0.0.0/0, internet-facing): only HTTPS and its redirect are open, behind WAF rate limits, and every request needs a client API key.',
      });
    }

    const scaling = this.service.autoScaleTaskCount({
      minCapacity: settings.minTasks,
      maxCapacity: settings.maxTasks,
    });
    scaling.scaleOnCpuUtilization('Cpu', {
      targetUtilizationPercent: settings.targetCpuPercent,
      scaleInCooldown: Duration.minutes(5),
      scaleOutCooldown: Duration.minutes(1),
    });
    scaling.scaleOnRequestCount('Requests', {
      requestsPerTarget: settings.targetRequestsPerTarget,
      targetGroup: this.targetGroup,
      scaleInCooldown: Duration.minutes(5),
      scaleOutCooldown: Duration.minutes(1),
    });
  }

  /**
   * Rolls a deployment back on its own when one of `alarms` fires while it runs, beside the circuit
   * breaker (which sees only tasks that never become healthy; these see healthy tasks that serve errors
   * or slowly). The alarms watch this service's load balancer and target group, so they are made after
   * it and given here. Each must have an explicit name: the service names it literally and depends on
   * it, so CloudFormation creates the alarm first (a `Ref` would do the same, with a synth note per alarm).
   */
  rollBackOnAlarms(alarms: readonly cloudwatch.Alarm[]): void {
    const names = alarms.map((alarm) => {
      const name = (alarm.node.defaultChild as cloudwatch.CfnAlarm).alarmName;
      if (!name)
        throw new Error(`GatewayService: deployment alarm ${alarm.node.path} needs an explicit alarmName`);
      this.service.node.addDependency(alarm);
      return name;
    });
    this.service.enableDeploymentAlarms(names, { behavior: ecs.AlarmBehavior.ROLLBACK_ON_ALARM });
  }

  /** Security group of the tasks, for the cache to allow. */
  get connections(): ec2.Connections {
    return this.service.connections;
  }
}
