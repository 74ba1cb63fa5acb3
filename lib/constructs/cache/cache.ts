import { Fn, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { SecretField } from '../../../runtime/secrets';
import { acknowledge, nag } from '../../acknowledgments';
import { SettingsProblems, isIntegerIn } from '../settings';

/** The ElastiCache replication group of one stage: `StageConfig.cache`. */
export interface GatewayCacheSettings {
  /** Node type, e.g. `cache.t4g.micro`. @default 'cache.m7g.large' */
  readonly nodeType: string;
  /**
   * Nodes in the replication group: 1 primary plus replicas, 1 to 6. 2 or more turns on Multi-AZ with
   * automatic failover, which production needs.
   * @default 2
   */
  readonly nodes: number;
  /** Days of daily snapshots kept, 0 to 35; 0 turns snapshots off. @default 7 */
  readonly snapshotRetentionDays: number;
}

/** What `lib/config/base.ts` starts every stage from: two nodes (automatic failover) and a week of snapshots. */
export const DEFAULT_GATEWAY_CACHE_SETTINGS: GatewayCacheSettings = {
  nodeType: 'cache.m7g.large',
  nodes: 2,
  snapshotRetentionDays: 7,
};

/** Records every problem of `settings`. */
export function checkGatewayCacheSettings(settings: GatewayCacheSettings, problems: SettingsProblems): void {
  const { nodeType, nodes, snapshotRetentionDays } = settings;
  const f = (name: keyof GatewayCacheSettings) => problems.field(name);
  problems.expect(
    /^cache\.[a-z0-9]+\.[a-z0-9]+$/.test(nodeType),
    () => `${f('nodeType')} must look like cache.t4g.micro, got "${nodeType}"`,
  );
  problems.expect(
    isIntegerIn(nodes, 1, 6),
    () => `${f('nodes')} must be an integer from 1 to 6, got ${nodes}`,
  );
  problems.expect(
    isIntegerIn(snapshotRetentionDays, 0, 35),
    () => `${f('snapshotRetentionDays')} must be an integer from 0 to 35, got ${snapshotRetentionDays}`,
  );
}

/** The port Redis and Valkey clients try first, which the cache does not listen on. */
const WELL_KNOWN_PORT = 6379;

export interface GatewayCacheProps {
  readonly settings: GatewayCacheSettings;
  readonly vpc: ec2.IVpc;
  /** Secret holding the AUTH token under `authToken`; the template gets only a dynamic reference to it. */
  readonly authSecret: secretsmanager.ISecret;
  /** Key that encrypts the data at rest. */
  readonly encryptionKey: kms.IKey;
  /**
   * Port the cache listens on (not the well-known 6379).
   * @default 6380
   */
  readonly port?: number;
  /**
   * What happens to the replication group when the stack is deleted.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The gateway's Valkey replication group: TLS required in transit, KMS at rest, AUTH token from Secrets
 * Manager, private subnets only, reachable only from what `allowFrom` names. With two or more nodes it
 * runs Multi-AZ with automatic failover.
 */
export class GatewayCache extends Construct {
  readonly replicationGroup: elasticache.CfnReplicationGroup;
  readonly securityGroup: ec2.SecurityGroup;
  readonly port: number;
  /** `rediss://host:port` of the primary endpoint: TLS, as the gateway's ioredis client needs. */
  readonly url: string;
  /** Member cluster IDs (`<group>-001`, ...), the `CacheClusterId` dimension of the node metrics. */
  readonly memberClusterIds: string[];

  constructor(scope: Construct, id: string, props: GatewayCacheProps) {
    super(scope, id);
    const problems = new SettingsProblems();
    checkGatewayCacheSettings(props.settings, problems);
    this.port = props.port ?? 6380;
    problems.expect(
      this.port !== WELL_KNOWN_PORT,
      () => `port must not be the well-known ${WELL_KNOWN_PORT}`,
    );
    problems.throwIfAny('GatewayCache');
    const { nodeType, nodes, snapshotRetentionDays } = props.settings;
    const multiAz = nodes >= 2;

    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'Gateway cache: ingress only from the security groups allowed by GatewayCache.allowFrom',
      allowAllOutbound: false,
    });
    const subnetGroup = new elasticache.CfnSubnetGroup(this, 'Subnets', {
      description: 'Private subnets of the gateway cache',
      subnetIds: props.vpc.selectSubnets({ subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }).subnetIds,
    });

    // The eviction policy the store's key layout relies on, set explicitly rather than inherited from
    // the engine default: only keys with a TTL (cached answers, past months' spend, owner records) may
    // be evicted; the month's spend counters and rate state have none, so cached data never drops them.
    const parameters = new elasticache.CfnParameterGroup(this, 'Parameters', {
      cacheParameterGroupFamily: 'valkey8',
      description: 'Gateway cache: evict only keys with a TTL (volatile-lru)',
      properties: { 'maxmemory-policy': 'volatile-lru' },
    });

    this.replicationGroup = new elasticache.CfnReplicationGroup(this, 'ReplicationGroup', {
      cacheParameterGroupName: parameters.ref,
      replicationGroupDescription: 'OpenAI gateway cache, rate limits and spend counters',
      engine: 'valkey',
      engineVersion: '8.0',
      cacheNodeType: nodeType,
      numCacheClusters: nodes,
      multiAzEnabled: multiAz,
      automaticFailoverEnabled: multiAz,
      port: this.port,
      cacheSubnetGroupName: subnetGroup.ref,
      securityGroupIds: [this.securityGroup.securityGroupId],
      atRestEncryptionEnabled: true,
      kmsKeyId: props.encryptionKey.keyArn,
      transitEncryptionEnabled: true,
      transitEncryptionMode: 'required',
      // A CloudFormation dynamic reference: CloudFormation resolves it at deploy time, the template holds only the ARN.
      authToken: Fn.join('', [
        '{{resolve:secretsmanager:',
        props.authSecret.secretArn,
        `:SecretString:${SecretField.authToken}}}`,
      ]),
      snapshotRetentionLimit: snapshotRetentionDays,
      autoMinorVersionUpgrade: true,
    });
    this.replicationGroup.applyRemovalPolicy(props.removalPolicy ?? RemovalPolicy.RETAIN);

    const host = this.replicationGroup.attrPrimaryEndPointAddress;
    this.url = `rediss://${host}:${this.replicationGroup.attrPrimaryEndPointPort}`;
    this.memberClusterIds = Array.from({ length: nodes }, (_, i) =>
      Fn.join('-', [this.replicationGroup.ref, String(i + 1).padStart(3, '0')]),
    );

    acknowledge(this.replicationGroup, {
      ids: nag('ElastiCacheRedisClusterAutomaticBackup', 'nist', 'hipaa'),
      reason:
        'The cache holds cached answers, rate-limit windows and spend counters the gateway rebuilds: month-to-date spend is durable in the spend ledger table, so 15 days of snapshots would restore nothing the ledger does not; snapshotRetentionDays is per stage config.',
    });
    if (!multiAz) {
      Validations.of(this.replicationGroup).acknowledge({
        id: 'AwsSolutions-AEC4',
        reason:
          'Single-node cache by stage config (staging): losing it costs cached responses and counters for minutes, not data; production validation requires 2+ nodes with Multi-AZ.',
      });
    }
  }

  /** Lets `peer` connect to the cache port. Nothing else can. */
  allowFrom(peer: ec2.IConnectable, description: string): void {
    this.securityGroup.connections.allowFrom(peer, ec2.Port.tcp(this.port), description);
  }
}
