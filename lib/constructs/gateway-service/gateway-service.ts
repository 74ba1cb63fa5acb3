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
import { GatewayWebAcl, WAF_LOG_GROUP_PREFIX } from './waf';

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

export interface GatewayServiceProps {
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
  /** Fargate task CPU units. */
  readonly cpu: number;
  /** Fargate task memory in MiB. */
  readonly memoryMiB: number;
  /** Fewest tasks; also the desired count at creation. */
  readonly minTasks: number;
  /** Most tasks. */
  readonly maxTasks: number;
  /** Average CPU percent the CPU scaling policy holds. */
  readonly targetCpuPercent: number;
  /** Requests per target per minute the request scaling policy holds. */
  readonly targetRequestsPerTarget: number;
  /** Internet-facing ALB in the public subnets, or internal in the private subnets. */
  readonly internetFacing: boolean;
  /** CIDR ranges allowed to reach the listener(s). */
  readonly ingressCidrs: readonly string[];
  /**
   * ACM certificate: HTTPS on 443 plus a redirect from 80. Without one, plain HTTP on 80 (internal ALBs only).
   * @default none
   */
  readonly certificateArn?: string;
  /** ALB idle timeout; the gateway's keep-alive timeout is set 5 s above it. */
  readonly idleTimeout: Duration;
  /** Time from SIGTERM to SIGKILL; the gateway's shutdown timeout is set 5 s below it. */
  readonly stopTimeout: Duration;
  /** Time the ALB lets in-flight requests finish on a deregistering task. */
  readonly deregistrationDelay: Duration;
  /** WAF rate-based rule: requests per IP per 5 minutes. */
  readonly wafRequestsPer5MinPerIp: number;
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
    validateProps(props);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;

    this.cluster = new ecs.Cluster(this, 'Cluster', {
      vpc: props.vpc,
      containerInsightsV2: ecs.ContainerInsights.ENABLED,
    });

    this.taskDefinition = new ecs.FargateTaskDefinition(this, 'Task', {
      cpu: props.cpu,
      memoryLimitMiB: props.memoryMiB,
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
      [GatewayEnv.keepAliveTimeoutMs]: String(props.idleTimeout.toMilliseconds() + KEEP_ALIVE_MARGIN_MS),
      [GatewayEnv.shutdownTimeoutMs]: String(props.stopTimeout.toMilliseconds() - SHUTDOWN_MARGIN_MS),
      [GatewayEnv.metricsFlushMs]: String(METRICS_FLUSH_MS),
      [GatewayEnv.spendLedgerTable]: props.spendLedgerTableName,
      [GatewayEnv.ledgerFlushMs]: String(LEDGER_FLUSH_MS),
      // The most tasks autoscaling may run: under the fallback each task enforces 1/N of the limits.
      [GatewayEnv.replicas]: String(props.maxTasks),
    };
    const container = this.taskDefinition.addContainer('gateway', {
      image: props.image,
      essential: true,
      user: GATEWAY_CONTAINER_USER,
      // The hard limit is the task's memory: the one container may use all of it, and no more.
      memoryLimitMiB: props.memoryMiB,
      portMappings: [{ containerPort: GATEWAY_CONTAINER_PORT, protocol: ecs.Protocol.TCP }],
      environment,
      logging: ecs.LogDrivers.awsLogs({
        logGroup: this.logGroup,
        streamPrefix: 'gateway',
        mode: ecs.AwsLogDriverMode.NON_BLOCKING,
        maxBufferSize: Size.mebibytes(25),
      }),
      stopTimeout: props.stopTimeout,
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
      internetFacing: props.internetFacing,
      vpcSubnets: {
        subnetType: props.internetFacing ? ec2.SubnetType.PUBLIC : ec2.SubnetType.PRIVATE_WITH_EGRESS,
      },
      idleTimeout: props.idleTimeout,
      dropInvalidHeaderFields: true,
      deletionProtection: removalPolicy === RemovalPolicy.RETAIN,
    });
    this.loadBalancer.logAccessLogs(props.accessLogBucket, 'alb');
    this.webAcl = new GatewayWebAcl(this, 'Waf', {
      loadBalancerArn: this.loadBalancer.loadBalancerArn,
      requestsPer5MinPerIp: props.wafRequestsPer5MinPerIp,
      logGroupName: `${WAF_LOG_GROUP_PREFIX}${props.wafLogName}`,
      logRetention: props.logRetention,
      logKey: props.logKey,
      removalPolicy,
    });
    if (removalPolicy !== RemovalPolicy.RETAIN) {
      acknowledge(this.loadBalancer, {
        ids: [
          ...nag('ELBDeletionProtectionEnabled', 'nist', 'hipaa'),
          controlTower('elbv2_deletion_protection_enabled_check'),
        ],
        reason:
          'A disposable stage (removal policy DESTROY, i.e. staging): its load balancer is meant to go with the stack; stages that retain their resources turn deletion protection on.',
      });
    }

    this.service = new ecs.FargateService(this, 'Service', {
      cluster: this.cluster,
      taskDefinition: this.taskDefinition,
      desiredCount: props.minTasks,
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
      deregistrationDelay: props.deregistrationDelay,
      healthCheck: {
        path: GatewayPaths.ready,
        healthyHttpCodes: '200',
        interval: Duration.seconds(10),
        timeout: Duration.seconds(5),
        healthyThresholdCount: 2,
        unhealthyThresholdCount: 3,
      },
    });

    if (props.certificateArn) {
      const https = this.loadBalancer.addListener('Https', {
        port: 443,
        protocol: elbv2.ApplicationProtocol.HTTPS,
        certificates: [acm.Certificate.fromCertificateArn(this, 'Certificate', props.certificateArn)],
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
      for (const cidr of props.ingressCidrs) {
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
      for (const cidr of props.ingressCidrs)
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

    if (props.ingressCidrs.includes('0.0.0.0/0')) {
      Validations.of(this.loadBalancer).acknowledge({
        id: 'AwsSolutions-EC23',
        reason:
          'Public API by stage config (service.ingressCidrs 0.0.0.0/0, internet-facing): only HTTPS and its redirect are open, behind WAF rate limits, and every request needs a client API key.',
      });
    }

    const scaling = this.service.autoScaleTaskCount({
      minCapacity: props.minTasks,
      maxCapacity: props.maxTasks,
    });
    scaling.scaleOnCpuUtilization('Cpu', {
      targetUtilizationPercent: props.targetCpuPercent,
      scaleInCooldown: Duration.minutes(5),
      scaleOutCooldown: Duration.minutes(1),
    });
    scaling.scaleOnRequestCount('Requests', {
      requestsPerTarget: props.targetRequestsPerTarget,
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

function validateProps(props: GatewayServiceProps): void {
  const fail = (message: string): never => {
    throw new Error(`GatewayService: ${message}`);
  };
  if (!Number.isInteger(props.minTasks) || props.minTasks < 1)
    fail(`minTasks must be an integer of at least 1, got ${props.minTasks}`);
  if (!Number.isInteger(props.maxTasks) || props.maxTasks < props.minTasks) {
    fail(`maxTasks (${props.maxTasks}) must be an integer of at least minTasks (${props.minTasks})`);
  }
  if (props.internetFacing && !props.certificateArn)
    fail('an internet-facing load balancer needs certificateArn (HTTPS)');
  if (props.ingressCidrs.length === 0) fail('ingressCidrs must name at least one CIDR range');
  const stopSeconds = props.stopTimeout.toSeconds();
  if (stopSeconds * 1000 <= SHUTDOWN_MARGIN_MS || stopSeconds > MAX_STOP_TIMEOUT_SECONDS) {
    fail(
      `stopTimeout must be above ${SHUTDOWN_MARGIN_MS / 1000} s and at most ${MAX_STOP_TIMEOUT_SECONDS} s, got ${stopSeconds} s`,
    );
  }
}
