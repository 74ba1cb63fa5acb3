import { App, Duration, Stack, Stage, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks } from 'cdk-nag';
import { validateStageConfig, stagingConfig } from '../../../lib/config';
import { StageBudget } from '../../../lib/constructs/budgets/stage-budget';
import { GatewayCache } from '../../../lib/constructs/cache/cache';
import { GatewayService, GatewayServiceProps } from '../../../lib/constructs/gateway-service/gateway-service';
import { GatewayWebAcl } from '../../../lib/constructs/gateway-service/waf';
import { OnCallTopic } from '../../../lib/constructs/observability/on-call-topic';
import { StageSecrets } from '../../../lib/constructs/secrets/secrets';

const env = { account: '111111111111', region: 'us-east-1' };
const newStack = (): Stack => new Stack(new App(), 'Test', { env });
/** A key for the log groups of constructs that fail validation before they use it. */
const logKey = (): kms.IKey =>
  kms.Key.fromKeyArn(newStack(), 'LogKey', `arn:aws:kms:${env.region}:${env.account}:key/test`);

describe('construct props are validated up front with precise messages', () => {
  describe('GatewayCache', () => {
    const cacheProps = (stack: Stack) => ({
      vpc: new ec2.Vpc(stack, 'Vpc'),
      nodeType: 'cache.t4g.micro',
      authSecret: new secretsmanager.Secret(stack, 'Auth'),
      encryptionKey: new kms.Key(stack, 'Key'),
    });

    it('refuses an impossible node count', () => {
      const stack = newStack();
      expect(() => new GatewayCache(stack, 'C', { ...cacheProps(stack), nodes: 0 })).toThrow(
        new Error('GatewayCache: nodes must be an integer from 1 to 6, got 0'),
      );
    });

    it('refuses the well-known port', () => {
      const stack = newStack();
      expect(() => new GatewayCache(stack, 'C', { ...cacheProps(stack), nodes: 1, port: 6379 })).toThrow(
        new Error('GatewayCache: port must not be the well-known 6379'),
      );
    });

    it('refuses a snapshot retention ElastiCache does not offer', () => {
      const stack = newStack();
      expect(
        () => new GatewayCache(stack, 'C', { ...cacheProps(stack), nodes: 1, snapshotRetentionDays: 40 }),
      ).toThrow(new Error('GatewayCache: snapshotRetentionDays must be an integer from 0 to 35, got 40'));
    });
  });

  describe('GatewayService', () => {
    const serviceProps = (stack: Stack): GatewayServiceProps => ({
      vpc: new ec2.Vpc(stack, 'Vpc'),
      image: ecs.ContainerImage.fromRegistry('public.ecr.aws/docker/library/node:24-alpine'),
      gatewayConfig: validateStageConfig(stagingConfig),
      apiKeySecret: new secretsmanager.Secret(stack, 'ApiKey'),
      redisAuthSecret: new secretsmanager.Secret(stack, 'RedisAuth'),
      redisUrl: 'rediss://cache.example:6380',
      spendLedgerTableName: 'spend-ledger',
      cpu: 256,
      memoryMiB: 512,
      minTasks: 1,
      maxTasks: 2,
      targetCpuPercent: 60,
      targetRequestsPerTarget: 100,
      internetFacing: false,
      ingressCidrs: ['10.0.0.0/8'],
      idleTimeout: Duration.seconds(120),
      stopTimeout: Duration.seconds(30),
      deregistrationDelay: Duration.seconds(30),
      wafRequestsPer5MinPerIp: 100,
      accessLogBucket: new s3.Bucket(stack, 'Logs'),
      logRetention: logs.RetentionDays.ONE_WEEK,
      logKey: logKey(),
      wafLogName: 'test',
    });

    it('refuses scaling bounds with min above max', () => {
      const stack = newStack();
      expect(
        () => new GatewayService(stack, 'G', { ...serviceProps(stack), minTasks: 3, maxTasks: 2 }),
      ).toThrow(new Error('GatewayService: maxTasks (2) must be an integer of at least minTasks (3)'));
    });

    it('refuses an internet-facing ALB without a certificate', () => {
      const stack = newStack();
      expect(() => new GatewayService(stack, 'G', { ...serviceProps(stack), internetFacing: true })).toThrow(
        new Error('GatewayService: an internet-facing load balancer needs certificateArn (HTTPS)'),
      );
    });

    it('refuses a stop timeout Fargate does not allow', () => {
      const stack = newStack();
      expect(
        () => new GatewayService(stack, 'G', { ...serviceProps(stack), stopTimeout: Duration.seconds(180) }),
      ).toThrow(new Error('GatewayService: stopTimeout must be above 5 s and at most 120 s, got 180 s'));
    });
  });

  it('GatewayWebAcl', () => {
    const props = {
      loadBalancerArn: 'arn',
      requestsPer5MinPerIp: 100,
      logGroupName: 'aws-waf-logs-test',
      logRetention: logs.RetentionDays.ONE_WEEK,
      logKey: logKey(),
    };
    expect(() => new GatewayWebAcl(newStack(), 'W', { ...props, requestsPer5MinPerIp: 5 })).toThrow(
      new Error('GatewayWebAcl: requestsPer5MinPerIp must be an integer of at least 10, got 5'),
    );
    expect(() => new GatewayWebAcl(newStack(), 'W', { ...props, logGroupName: 'waf-test' })).toThrow(
      new Error('GatewayWebAcl: logGroupName must start with "aws-waf-logs-", got "waf-test"'),
    );
  });

  it('OnCallTopic', () => {
    expect(() => new OnCallTopic(newStack(), 'T', { stage: 'S', emails: [] })).toThrow(
      new Error('OnCallTopic: name at least one email or a pagerUrl'),
    );
    expect(
      () => new OnCallTopic(newStack(), 'T', { stage: 'S', emails: [], pagerUrl: 'http://pager' }),
    ).toThrow(new Error('OnCallTopic: pagerUrl must be an https:// URL, got "http://pager"'));
  });

  it('StageBudget', () => {
    const stack = newStack();
    const topic = new sns.Topic(stack, 'Topic');
    const budget = {
      budgetName: 'b',
      monthlyUsd: 100,
      notifyAtPercent: 80,
      tagKey: 'Stage',
      tagValue: 'S',
      topic,
    };
    expect(() => new StageBudget(stack, 'B1', { ...budget, monthlyUsd: 0 })).toThrow(
      new Error('StageBudget: monthlyUsd must be above 0, got 0'),
    );
    expect(() => new StageBudget(stack, 'B2', { ...budget, notifyAtPercent: 0 })).toThrow(
      new Error('StageBudget: notifyAtPercent must be from 1 to 100, got 0'),
    );
    expect(() => new StageBudget(stack, 'B3', { ...budget, budgetName: 'has spaces' })).toThrow(
      new Error(
        'StageBudget: budgetName must be 1 to 100 letters, digits, "_", "-" or ".", got "has spaces"',
      ),
    );
  });

  it('StageSecrets refuses a secret without readers', () => {
    const secrets = new StageSecrets(newStack(), 'S', { stage: 'S' });
    expect(() =>
      secrets.restrictReadsTo({
        apiKey: ['arn:aws:iam::111111111111:role/r'],
        adminKey: [],
        redisAuth: ['x'],
      }),
    ).toThrow(new Error('StageSecrets: adminKey must have at least one reader'));
  });
});

describe('cdk-nag on the App', () => {
  it('fails synth on an unacknowledged finding inside a Stage, and passes once it is acknowledged', () => {
    const build = (acknowledge: boolean): App => {
      const app = new App();
      Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
      const stack = new Stack(new Stage(app, 'Staging', { env }), 'Gateway');
      const topic = new sns.Topic(stack, 'Plain');
      if (acknowledge) {
        Validations.of(topic).acknowledge({
          id: 'AwsSolutions-SNS3',
          reason: 'a topic in a test that is never deployed',
        });
      }
      return app;
    };
    expect(() => build(false).synth()).toThrow(/AwsSolutions-SNS3/);
    expect(() => build(true).synth()).not.toThrow();
  });
});
