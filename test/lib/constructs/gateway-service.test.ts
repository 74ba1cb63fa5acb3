import { Match } from 'aws-cdk-lib/assertions';
import { Platform } from 'aws-cdk-lib/aws-ecr-assets';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { stagingConfig, validateStageConfig } from '../../../lib/config';
import {
  DEFAULT_GATEWAY_SERVICE_SETTINGS,
  GatewayService,
  GatewayServiceProps,
  GatewayServiceSettings,
  checkGatewayServiceSettings,
} from '../../../lib/constructs/gateway-service/gateway-service';
import { COMMON_RULES_COUNTED_FOR_PROMPTS } from '../../../lib/constructs/gateway-service/waf';
import { SettingsProblems } from '../../../lib/constructs/settings';
import { GATEWAY_CONTAINER_PORT, GatewayEnv, GatewayPaths } from '../../../runtime/gateway-env';
import {
  constructStack,
  GATEWAY_IMAGE_DIRECTORY,
  importedKey,
  importedSecret,
  importedSecretArn,
  importedVpc,
  logicalId,
  onlyResource,
  Synthesized,
  synthConstruct,
} from '../synth';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Json = Record<string, any>;

type Stack = ReturnType<typeof constructStack>;

const REDIS_URL = 'rediss://cache.example:6380';
const CERTIFICATE_ARN = 'arn:aws:acm:us-east-1:111111111111:certificate/00000000-0000-0000-0000-000000000000';
/** The base's settings with the certificate an internet-facing ALB needs. */
const WITH_CERTIFICATE: GatewayServiceSettings = {
  ...DEFAULT_GATEWAY_SERVICE_SETTINGS,
  certificateArn: CERTIFICATE_ARN,
};
/** An internal ALB on plain HTTP: the staging config's settings. */
const INTERNAL: GatewayServiceSettings = stagingConfig.service;

const serviceProps = (stack: Stack, settings: GatewayServiceSettings): GatewayServiceProps => ({
  settings,
  vpc: importedVpc(stack),
  image: ecs.ContainerImage.fromAsset(GATEWAY_IMAGE_DIRECTORY, { platform: Platform.LINUX_ARM64 }),
  gatewayConfig: validateStageConfig(stagingConfig),
  apiKeySecret: importedSecret(stack, 'ApiKey'),
  redisAuthSecret: importedSecret(stack, 'RedisAuth'),
  redisUrl: REDIS_URL,
  spendLedgerTableName: 'spend-ledger',
  accessLogBucket: s3.Bucket.fromBucketName(stack, 'AccessLogs', 'access-logs'),
  logRetention: logs.RetentionDays.ONE_WEEK,
  logKey: importedKey(stack),
  wafLogName: 'test',
});

interface SynthesizedService extends Synthesized {
  readonly gateway: GatewayService;
  readonly stack: Stack;
}

/** A GatewayService alone in its stack, synthesized with every compliance pack. */
const synthService = (settings: GatewayServiceSettings): SynthesizedService => {
  const stack = constructStack();
  const gateway = new GatewayService(stack, 'Gateway', serviceProps(stack, settings));
  return { ...synthConstruct(stack), gateway, stack };
};

describe('GatewayService', () => {
  describe.each([
    ['the default settings and a certificate', WITH_CERTIFICATE],
    ['an internal ALB (the staging settings)', INTERNAL],
  ])('with %s', (_name, settings) => {
    let s: SynthesizedService;
    let container: Json;
    beforeAll(() => {
      s = synthService(settings);
      container = onlyResource(s, 'AWS::ECS::TaskDefinition')[1].Properties.ContainerDefinitions[0];
    });
    const env = (name: string): unknown =>
      (container.Environment as Json[]).find((e) => e.Name === name)?.Value;

    it('runs the configured Fargate size on ARM64 from the gateway image asset', () => {
      s.template.hasResourceProperties('AWS::ECS::TaskDefinition', {
        Cpu: String(settings.cpu),
        Memory: String(settings.memoryMiB),
        RuntimePlatform: { CpuArchitecture: 'ARM64', OperatingSystemFamily: 'LINUX' },
        RequiresCompatibilities: ['FARGATE'],
      });
      expect(JSON.stringify(container.Image)).toContain('cdk-hnb659fds-container-assets');
    });

    it('gets the validated gateway document, ARNs and timeouts as environment, never a secret value', () => {
      const doc = JSON.parse(env(GatewayEnv.configJson) as string);
      expect(doc.stage).toBe(stagingConfig.name);
      expect(doc.clients[0]).toEqual({ ...stagingConfig.gateway.clients[0] });
      expect(env(GatewayEnv.openaiApiKeySecretArn)).toBe(importedSecretArn(s.stack, 'ApiKey'));
      expect(env(GatewayEnv.redisAuthSecretArn)).toBe(importedSecretArn(s.stack, 'RedisAuth'));
      expect(env(GatewayEnv.redisUrl)).toBe(REDIS_URL);
      expect(env(GatewayEnv.keepAliveTimeoutMs)).toBe(String((settings.idleTimeoutSeconds + 5) * 1000));
      expect(env(GatewayEnv.shutdownTimeoutMs)).toBe(String((settings.stopTimeoutSeconds - 5) * 1000));
      expect(env(GatewayEnv.metricsFlushMs)).toBe('60000');
      expect(env(GatewayEnv.spendLedgerTable)).toBe('spend-ledger');
      expect(env(GatewayEnv.ledgerFlushMs)).toBe('1000');
      expect(env(GatewayEnv.openaiBaseUrl)).toBe('https://api.openai.com/v1');
      // The fallback divides the limits by the most tasks autoscaling may run.
      expect(env(GatewayEnv.replicas)).toBe(String(settings.maxTasks));
      s.template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
        MaxCapacity: Number(env(GatewayEnv.replicas)),
      });
      expect(env(GatewayEnv.port)).toBe(String(GATEWAY_CONTAINER_PORT));
      expect(container.Secrets).toBeUndefined();
      expect(container.StopTimeout).toBe(settings.stopTimeoutSeconds);
      expect(container.PortMappings).toEqual([{ ContainerPort: GATEWAY_CONTAINER_PORT, Protocol: 'tcp' }]);
      expect(container.LogConfiguration.LogDriver).toBe('awslogs');
    });

    it('runs the container as the unprivileged node user with the task memory as hard limit', () => {
      const [, task] = onlyResource(s, 'AWS::ECS::TaskDefinition');
      expect(container.User).toBe('1000:1000');
      expect(container.Memory).toBe(Number(task.Properties.Memory));
    });

    it('rolls back failed deployments and keeps full capacity while deploying', () => {
      s.template.hasResourceProperties('AWS::ECS::Service', {
        DesiredCount: settings.minTasks,
        LaunchType: 'FARGATE',
        DeploymentConfiguration: {
          DeploymentCircuitBreaker: { Enable: true, Rollback: true },
          MinimumHealthyPercent: 100,
          MaximumPercent: 200,
        },
        NetworkConfiguration: { AwsvpcConfiguration: { AssignPublicIp: 'DISABLED' } },
      });
    });

    it('autoscales between the configured bounds on CPU and on requests per target', () => {
      s.template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
        MinCapacity: settings.minTasks,
        MaxCapacity: settings.maxTasks,
      });
      s.template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
        TargetTrackingScalingPolicyConfiguration: {
          PredefinedMetricSpecification: { PredefinedMetricType: 'ECSServiceAverageCPUUtilization' },
          TargetValue: settings.targetCpuPercent,
        },
      });
      s.template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
        TargetTrackingScalingPolicyConfiguration: {
          PredefinedMetricSpecification: { PredefinedMetricType: 'ALBRequestCountPerTarget' },
          TargetValue: settings.targetRequestsPerTarget,
        },
      });
    });

    it('health-checks the readiness path and drains for the configured delay', () => {
      s.template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
        HealthCheckPath: GatewayPaths.ready,
        Port: GATEWAY_CONTAINER_PORT,
        TargetType: 'ip',
        TargetGroupAttributes: Match.arrayWith([
          {
            Key: 'deregistration_delay.timeout_seconds',
            Value: String(settings.deregistrationDelaySeconds),
          },
        ]),
      });
    });

    it('has an ALB with the configured scheme and idle timeout, access logs and invalid headers dropped', () => {
      s.template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
        Scheme: settings.internetFacing ? 'internet-facing' : 'internal',
        LoadBalancerAttributes: Match.arrayWith([
          { Key: 'idle_timeout.timeout_seconds', Value: String(settings.idleTimeoutSeconds) },
          { Key: 'routing.http.drop_invalid_header_fields.enabled', Value: 'true' },
          { Key: 'access_logs.s3.enabled', Value: 'true' },
        ]),
      });
    });

    it('protects the ALB with a WAF rate limit and the common rule set tuned for long prompts', () => {
      const acl = onlyResource(s, 'AWS::WAFv2::WebACL')[1].Properties;
      expect(acl.Scope).toBe('REGIONAL');
      const rules = acl.Rules as Json[];
      expect(rules.find((r) => r.Name === 'RateLimitPerIp')).toMatchObject({
        Action: { Block: {} },
        Statement: {
          RateBasedStatement: { Limit: settings.wafRequestsPer5MinPerIp, AggregateKeyType: 'IP' },
        },
      });
      const common = rules.find((r) => r.Name === 'AWSManagedRulesCommonRuleSet');
      expect(common?.Statement.ManagedRuleGroupStatement.RuleActionOverrides).toEqual(
        COMMON_RULES_COUNTED_FOR_PROMPTS.map((Name) => ({ Name, ActionToUse: { Count: {} } })),
      );
      expect(COMMON_RULES_COUNTED_FOR_PROMPTS).toContain('SizeRestrictions_BODY');
      s.template.hasResourceProperties('AWS::WAFv2::WebACLAssociation', {
        ResourceArn: { Ref: logicalId(s, 'AWS::ElasticLoadBalancingV2::LoadBalancer', 'GatewayAlb') },
      });
    });
  });

  it('acknowledges a plain-HTTP listener with the documented reason, and one with a certificate has none', () => {
    const reasons = (gateway: GatewayService): string[] =>
      gateway.loadBalancer.node
        .findAll()
        .flatMap((c) => c.node.metadata.filter((m) => m.type === 'aws:cdk:acknowledged-rules'))
        .flatMap((m) => Object.entries(m.data as Record<string, string>))
        .filter(([id]) => id.includes('ALBHttpToHttpsRedirection'))
        .map(([, reason]) => reason);
    const internal = reasons(synthService(INTERNAL).gateway);
    expect(internal.length).toBeGreaterThan(0);
    for (const reason of internal) expect(reason).toContain('docs/threat-model.md');
    expect(reasons(synthService(WITH_CERTIFICATE).gateway)).toEqual([]);
  });

  describe('settings check', () => {
    const problemsOf = (settings: GatewayServiceSettings, at = ''): readonly string[] => {
      const problems = new SettingsProblems(at);
      checkGatewayServiceSettings(settings, problems);
      return problems.list;
    };

    it('passes the default settings given a certificate, and the staging ones', () => {
      expect(problemsOf(WITH_CERTIFICATE)).toEqual([]);
      expect(problemsOf(INTERNAL)).toEqual([]);
    });

    it('reports every problem at once, each field by its path', () => {
      const settings: GatewayServiceSettings = {
        cpu: 256,
        memoryMiB: 8192,
        minTasks: 0.5,
        maxTasks: 0,
        targetCpuPercent: 95,
        targetRequestsPerTarget: 0,
        internetFacing: true,
        ingressCidrs: ['10.0.0.0/8', '10.0.0.0'],
        certificateArn: 'arn:aws:iam::111111111111:server-certificate/x',
        idleTimeoutSeconds: 30,
        stopTimeoutSeconds: 5,
        deregistrationDelaySeconds: 4000,
        wafRequestsPer5MinPerIp: 5,
      };
      expect(problemsOf(settings, 'service.')).toEqual([
        'service.memoryMiB 8192 is not a Fargate size for service.cpu 256',
        'service.minTasks must be an integer of at least 1, got 0.5',
        'service.maxTasks (0) must be an integer of at least service.minTasks (0.5)',
        'service.targetCpuPercent must be from 10 to 90, got 95',
        'service.targetRequestsPerTarget must be a positive integer, got 0',
        'service.certificateArn must be an ACM certificate ARN, got "arn:aws:iam::111111111111:server-certificate/x"',
        'service.ingressCidrs[1] must be an IPv4 CIDR such as 10.0.0.0/8, got "10.0.0.0"',
        'service.idleTimeoutSeconds must be an integer from 60 to 4000, got 30',
        'service.stopTimeoutSeconds must be an integer above 5 and at most 120, got 5',
        'service.deregistrationDelaySeconds must be an integer from 0 to 3600, got 4000',
        'service.wafRequestsPer5MinPerIp must be an integer of at least 10 (the WAF minimum), got 5',
      ]);
    });

    it('names the CPU sizes Fargate offers, and an internet-facing ALB without certificate or CIDRs', () => {
      expect(
        problemsOf({ ...DEFAULT_GATEWAY_SERVICE_SETTINGS, cpu: 300, ingressCidrs: [] }, 'service.'),
      ).toEqual([
        'service.cpu must be one of 256, 512, 1024, 2048, 4096, got 300',
        'service.certificateArn is required when service.internetFacing is true: callers send API keys in every request',
        'service.ingressCidrs must name at least one CIDR range',
      ]);
    });

    it('is what the construct runs on its settings, before it makes anything', () => {
      const stack = constructStack();
      const settings = { ...INTERNAL, minTasks: 3, maxTasks: 2, internetFacing: true };
      expect(() => new GatewayService(stack, 'G', serviceProps(stack, settings))).toThrow(
        [
          'GatewayService: 2 problems:',
          '  - maxTasks (2) must be an integer of at least minTasks (3)',
          '  - certificateArn is required when internetFacing is true: callers send API keys in every request',
        ].join('\n'),
      );
      expect(stack.node.tryFindChild('G')?.node.children).toHaveLength(0);
    });

    it.each([
      [{ minTasks: 3, maxTasks: 2 }, 'maxTasks (2) must be an integer of at least minTasks (3)'],
      [
        { internetFacing: true },
        'certificateArn is required when internetFacing is true: callers send API keys in every request',
      ],
      [{ stopTimeoutSeconds: 180 }, 'stopTimeoutSeconds must be an integer above 5 and at most 120, got 180'],
    ])('refuses %j alone with its one message', (change, message) => {
      const stack = constructStack();
      expect(() => new GatewayService(stack, 'G', serviceProps(stack, { ...INTERNAL, ...change }))).toThrow(
        new Error(`GatewayService: ${message}`),
      );
    });
  });
});
