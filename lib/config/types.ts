import type { GatewayConfigDocument } from '../../runtime/gateway-config';
import type { StageBudgetSettings } from '../constructs/budgets/stage-budget';
import type { GatewayCacheSettings } from '../constructs/cache/cache';
import type { GatewayServiceSettings } from '../constructs/gateway-service/gateway-service';
import type { HandlersSettings } from '../constructs/handlers/gateway-handlers';
import type { NetworkSettings } from '../constructs/network/network';
import type { OnCallTopicSettings } from '../constructs/observability/on-call-topic';
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

/**
 * What deleting or replacing the stage's resources may lose, and how much of an AZ outage it must
 * survive. The base keeps everything; a disposable stage says so here, field by field.
 */
export interface ResilienceConfig {
  /**
   * What CloudFormation does with the stateful resources (KMS key, secrets, cache, spend ledger table,
   * buckets, log groups, on-call topic, WAF log group) when the stack deletes or replaces them: `retain`
   * orphans them with their data, `destroy` deletes them.
   * @default 'retain'
   */
  readonly removalPolicy: 'retain' | 'destroy';
  /**
   * Deletion protection of the load balancer and the spend ledger table: while on, neither can be
   * deleted, by the stack or by hand, until it is turned off.
   * @default true
   */
  readonly deletionProtection: boolean;
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
  readonly service: GatewayServiceSettings;
  readonly cache: GatewayCacheSettings;
  readonly handlers: HandlersSettings;
  readonly onCall: OnCallTopicSettings;
  readonly infraBudget: StageBudgetSettings;
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
