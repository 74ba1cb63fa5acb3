import type { GatewayConfigDocument } from '../../runtime/gateway-config';
import type { NetworkSettings } from '../constructs/network/network';
import type { AlarmThresholds } from '../constructs/observability/thresholds';

export type { ClientDocument } from '../../runtime/gateway-config';

/** The US regions the project deploys to: OpenAI serves from the US, so these keep the round trip short. */
export const US_REGIONS = ['us-east-1', 'us-east-2', 'us-west-1', 'us-west-2'] as const;
export type UsRegion = (typeof US_REGIONS)[number];

/**
 * The gateway config document as a stage config holds it: everything but `stage`, which the stage's own
 * name fills in. `parseGatewayConfig` validates it at synth time.
 */
export type GatewayDocument = Omit<GatewayConfigDocument, 'stage'>;

/** Where the stage deploys. */
export interface StageEnvironment {
  /** 12-digit AWS account ID. One account per stage keeps staging principals away from production. */
  readonly account: string;
  /** A US region (see `US_REGIONS`). */
  readonly region: string;
}

/** The gateway's ECS service and its load balancer. */
export interface ServiceConfig {
  /** Fargate task CPU units (256, 512, 1024, 2048, 4096). */
  readonly cpu: number;
  /** Fargate task memory in MiB; must be a size Fargate offers for `cpu`. */
  readonly memoryMiB: number;
  /** Fewest running tasks. Production needs at least 2 (one per AZ). */
  readonly minTasks: number;
  /** Most running tasks autoscaling may start. */
  readonly maxTasks: number;
  /** Average CPU percent the CPU scaling policy holds. */
  readonly targetCpuPercent: number;
  /** ALB requests per target per minute the request scaling policy holds. */
  readonly targetRequestsPerTarget: number;
  /** Internet-facing ALB (needs `certificateArn`) or internal to the VPC. */
  readonly internetFacing: boolean;
  /** CIDR ranges allowed to reach the ALB listener. */
  readonly ingressCidrs: readonly string[];
  /**
   * ACM certificate for the HTTPS listener, in the stage's account and region. Without it the ALB
   * listens on plain HTTP, which validation allows only for an internal ALB.
   * @default none
   */
  readonly certificateArn?: string;
  /** ALB idle timeout in seconds; long enough for a streamed completion between keep-alive comments. */
  readonly idleTimeoutSeconds: number;
  /** Seconds ECS waits after SIGTERM before SIGKILL (Fargate allows up to 120). */
  readonly stopTimeoutSeconds: number;
  /** Seconds the ALB lets in-flight requests finish on a deregistering task. */
  readonly deregistrationDelaySeconds: number;
  /** WAF rate-based rule: most requests one client IP may make in any 5 minutes. */
  readonly wafRequestsPer5MinPerIp: number;
}

/** The ElastiCache replication group. */
export interface CacheConfig {
  /** Node type, e.g. `cache.t4g.micro`. */
  readonly nodeType: string;
  /** Nodes in the replication group: 1 primary plus replicas. Production needs at least 2 (automatic failover). */
  readonly nodes: number;
  /** Days of daily snapshots kept; 0 turns snapshots off. */
  readonly snapshotRetentionDays: number;
}

/** The Lambda handlers. */
export interface HandlersConfig {
  /** Model or alias the canary calls once a minute; must have a price in the gateway document. */
  readonly canaryModel: string;
  /** Days between rotations of the OpenAI API key secret. */
  readonly keyRotationDays: number;
  /** Days batch input objects are kept. */
  readonly batchInputRetentionDays: number;
  /** Days batch output objects are kept. */
  readonly batchOutputRetentionDays: number;
}

/** Who is told when something breaks. */
export interface OnCallConfig {
  /** Email addresses subscribed to the on-call topic (each must confirm the subscription). */
  readonly emails: readonly string[];
  /**
   * HTTPS endpoint of the paging service (PagerDuty, Opsgenie, ...) subscribed to the on-call topic.
   * @default none
   */
  readonly pagerUrl?: string;
}

/** AWS Budgets for the stage's AWS bill (OpenAI spend has its own budget in the gateway document). */
export interface InfraBudgetConfig {
  /** Monthly AWS cost of the stage in USD, counted by the `Stage` cost-allocation tag. */
  readonly monthlyUsd: number;
  /** Percent of `monthlyUsd` of actual cost at which on-call is notified. */
  readonly notifyAtPercent: number;
}

/**
 * What deleting or replacing the stage's resources may lose, and how much of an AZ outage it must
 * survive. The base keeps everything; a disposable stage says so here, field by field.
 */
export interface ResilienceConfig {
  /**
   * What CloudFormation does with the stateful resources (KMS key, secrets, cache, spend ledger table,
   * buckets, log groups, on-call topic, WAF log group) when the stack deletes or replaces them: `retain`
   * orphans them with their data, `destroy` deletes them. `retain` also turns on deletion protection of
   * the load balancer and the spend ledger table.
   * @default 'retain'
   */
  readonly removalPolicy: 'retain' | 'destroy';
  /** CloudFormation termination protection of the stage's stack: `cdk destroy` is refused while it is on. @default true */
  readonly terminationProtection: boolean;
  /** Days the access logs (ALB, batch bucket) are kept before they expire. @default 365 */
  readonly accessLogDays: number;
  /**
   * Refuse a config that one AZ outage would take down: validation then demands `network.maxAzs`,
   * `service.minTasks` and `cache.nodes` (automatic failover) of at least 2.
   * @default true
   */
  readonly requireMultiAz: boolean;
}

/**
 * Everything one environment needs: `lib/config/base.ts` plus the stage's delta in
 * `lib/config/<stage>.ts`.
 */
export interface StageConfig {
  /** Stage name: the `cdk.Stage` id, the `Stage` tag and metric dimension. Letters and digits. */
  readonly name: string;
  readonly env: StageEnvironment;
  readonly resilience: ResilienceConfig;
  /** The gateway config document (clients, models with prices, aliases, limits, OpenAI org and project). */
  readonly gateway: GatewayDocument;
  readonly network: NetworkSettings;
  readonly service: ServiceConfig;
  readonly cache: CacheConfig;
  readonly handlers: HandlersConfig;
  readonly onCall: OnCallConfig;
  readonly infraBudget: InfraBudgetConfig;
  /** Alarm thresholds; a stage's delta overrides any one of them. */
  readonly alarms: AlarmThresholds;
  /** Retention of every log group of the stage, in days (a value CloudWatch Logs accepts). */
  readonly logRetentionDays: number;
  /**
   * Upstream base URL including `/v1`.
   * @default 'https://api.openai.com/v1'
   */
  readonly openaiBaseUrl?: string;
}
