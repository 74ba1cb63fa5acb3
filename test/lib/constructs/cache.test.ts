import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Match } from 'aws-cdk-lib/assertions';
import {
  DEFAULT_GATEWAY_CACHE_SETTINGS,
  GatewayCache,
  GatewayCacheProps,
  GatewayCacheSettings,
  checkGatewayCacheSettings,
} from '../../../lib/constructs/cache/cache';
import { SettingsProblems } from '../../../lib/constructs/settings';
import {
  constructStack,
  importedKey,
  importedSecret,
  importedVpc,
  onlyResource,
  resourcesOf,
  Synthesized,
  synthConstruct,
} from '../synth';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Json = Record<string, any>;

type Stack = ReturnType<typeof constructStack>;

const cacheProps = (stack: Stack, settings: GatewayCacheSettings): GatewayCacheProps => ({
  settings,
  vpc: importedVpc(stack),
  authSecret: importedSecret(stack, 'RedisAuth'),
  encryptionKey: importedKey(stack),
});

/** A GatewayCache alone in its stack, allowing one peer security group, synthesized with every compliance pack. */
const synthCache = (settings: GatewayCacheSettings): Synthesized => {
  const stack = constructStack();
  const cache = new GatewayCache(stack, 'Cache', cacheProps(stack, settings));
  const peer = ec2.SecurityGroup.fromSecurityGroupId(stack, 'Peer', 'sg-0123456789abcdef0');
  cache.allowFrom(peer, 'Test peer');
  return synthConstruct(stack);
};

describe('GatewayCache', () => {
  describe.each([
    ['the default settings', DEFAULT_GATEWAY_CACHE_SETTINGS],
    ['a single node without snapshots', { nodeType: 'cache.t4g.micro', nodes: 1, snapshotRetentionDays: 0 }],
  ])('with %s', (_name, settings) => {
    let s: Synthesized;
    let group: Json;
    beforeAll(() => {
      s = synthCache(settings);
      group = onlyResource(s, 'AWS::ElastiCache::ReplicationGroup')[1];
    });

    it('encrypts in transit (required) and at rest with the key it is given', () => {
      expect(group.Properties).toMatchObject({
        TransitEncryptionEnabled: true,
        TransitEncryptionMode: 'required',
        AtRestEncryptionEnabled: true,
        KmsKeyId: 'arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab',
        Engine: 'valkey',
        Port: 6380,
      });
    });

    it('evicts only keys with a TTL (volatile-lru), set in its own parameter group, so counters are never dropped', () => {
      const [id, parameters] = onlyResource(s, 'AWS::ElastiCache::ParameterGroup');
      expect(parameters.Properties).toMatchObject({
        CacheParameterGroupFamily: 'valkey8',
        Properties: { 'maxmemory-policy': 'volatile-lru' },
      });
      expect(group.Properties.CacheParameterGroupName).toEqual({ Ref: id });
    });

    it('takes its AUTH token from the secret as a dynamic reference', () => {
      expect(group.Properties.AuthToken).toBe(
        '{{resolve:secretsmanager:arn:aws:secretsmanager:us-east-1:111111111111:secret:RedisAuth-AbCdEf:SecretString:authToken}}',
      );
    });

    it(`runs Multi-AZ with automatic failover exactly when it has 2+ nodes (${settings.nodes})`, () => {
      const multiAz = settings.nodes >= 2;
      expect(group.Properties).toMatchObject({
        NumCacheClusters: settings.nodes,
        MultiAZEnabled: multiAz,
        AutomaticFailoverEnabled: multiAz,
        CacheNodeType: settings.nodeType,
        SnapshotRetentionLimit: settings.snapshotRetentionDays,
      });
    });

    it('accepts connections only from what allowFrom names, on the cache port', () => {
      const ingress = resourcesOf(s, 'AWS::EC2::SecurityGroupIngress');
      expect(ingress).toHaveLength(1);
      expect(ingress[0][1].Properties).toMatchObject({
        FromPort: 6380,
        ToPort: 6380,
        SourceSecurityGroupId: 'sg-0123456789abcdef0',
      });
      s.template.hasResourceProperties('AWS::EC2::SecurityGroup', {
        GroupDescription: Match.stringLikeRegexp('^Gateway cache'),
        SecurityGroupIngress: Match.absent(),
      });
    });
  });

  describe('settings check', () => {
    const problemsOf = (settings: GatewayCacheSettings, at = ''): readonly string[] => {
      const problems = new SettingsProblems(at);
      checkGatewayCacheSettings(settings, problems);
      return problems.list;
    };

    it('passes the default settings', () => {
      expect(problemsOf(DEFAULT_GATEWAY_CACHE_SETTINGS)).toEqual([]);
    });

    it('reports every problem at once, each field by its path', () => {
      expect(problemsOf({ nodeType: 'm7g.large', nodes: 7, snapshotRetentionDays: 40 }, 'cache.')).toEqual([
        'cache.nodeType must look like cache.t4g.micro, got "m7g.large"',
        'cache.nodes must be an integer from 1 to 6, got 7',
        'cache.snapshotRetentionDays must be an integer from 0 to 35, got 40',
      ]);
    });

    it('is what the construct runs on its settings, with its own port rule, before it makes anything', () => {
      const stack = constructStack();
      const settings = { ...DEFAULT_GATEWAY_CACHE_SETTINGS, nodes: 0, snapshotRetentionDays: 1.5 };
      expect(() => new GatewayCache(stack, 'C', { ...cacheProps(stack, settings), port: 6379 })).toThrow(
        [
          'GatewayCache: 3 problems:',
          '  - nodes must be an integer from 1 to 6, got 0',
          '  - snapshotRetentionDays must be an integer from 0 to 35, got 1.5',
          '  - port must not be the well-known 6379',
        ].join('\n'),
      );
      expect(stack.node.tryFindChild('C')?.node.children).toHaveLength(0);
    });

    it.each([
      [{ nodes: 0 }, 'GatewayCache: nodes must be an integer from 1 to 6, got 0'],
      [
        { snapshotRetentionDays: 40 },
        'GatewayCache: snapshotRetentionDays must be an integer from 0 to 35, got 40',
      ],
    ])('refuses %j alone with its one message', (change, message) => {
      const stack = constructStack();
      const settings = { ...DEFAULT_GATEWAY_CACHE_SETTINGS, ...change };
      expect(() => new GatewayCache(stack, 'C', cacheProps(stack, settings))).toThrow(new Error(message));
    });

    it('refuses the well-known port', () => {
      const stack = constructStack();
      expect(
        () =>
          new GatewayCache(stack, 'C', { ...cacheProps(stack, DEFAULT_GATEWAY_CACHE_SETTINGS), port: 6379 }),
      ).toThrow(new Error('GatewayCache: port must not be the well-known 6379'));
    });
  });
});
