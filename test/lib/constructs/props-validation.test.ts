import { App, Duration, Stack, Stage, Validations } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks } from 'cdk-nag';
import { GatewayWebAcl } from '../../../lib/constructs/gateway-service/waf';
import { HouseFunction } from '../../../lib/constructs/handlers/house-function';
import { StageSecrets } from '../../../lib/constructs/secrets/secrets';
import { LAMBDA_ROOT } from '../synth';

const env = { account: '111111111111', region: 'us-east-1' };
const newStack = (): Stack => new Stack(new App(), 'Test', { env });
/** A key for the log groups of constructs that fail validation before they use it. */
const logKey = (): kms.IKey =>
  kms.Key.fromKeyArn(newStack(), 'LogKey', `arn:aws:kms:${env.region}:${env.account}:key/test`);

describe('construct props are validated up front with precise messages', () => {
  it('GatewayWebAcl', () => {
    const props = {
      loadBalancerArn: 'arn',
      requestsPer5MinPerIp: 100,
      logGroupName: 'aws-waf-logs-test',
      logRetention: logs.RetentionDays.ONE_WEEK,
      logKey: logKey(),
    };
    expect(() => new GatewayWebAcl(newStack(), 'W', { ...props, requestsPer5MinPerIp: 5 })).toThrow(
      new Error(
        'GatewayWebAcl: requestsPer5MinPerIp must be an integer of at least 10 (the WAF minimum), got 5',
      ),
    );
    expect(() => new GatewayWebAcl(newStack(), 'W', { ...props, logGroupName: 'waf-test' })).toThrow(
      new Error('GatewayWebAcl: logGroupName must start with "aws-waf-logs-", got "waf-test"'),
    );
  });

  it('HouseFunction refuses a handler without an entry file', () => {
    expect(
      () =>
        new HouseFunction(newStack(), 'F', {
          purpose: 'testing',
          lambdaRoot: LAMBDA_ROOT,
          handlerName: 'no-such-handler',
          description: 'x',
          timeout: Duration.seconds(3),
          memoryMiB: 128,
          environment: {},
          logRetention: logs.RetentionDays.ONE_WEEK,
          logKey: logKey(),
        }),
    ).toThrow(
      new Error(
        `HouseFunction: ${LAMBDA_ROOT}/no-such-handler/index.ts does not exist (each handler is lambda/<name>/index.ts)`,
      ),
    );
  });

  it("HouseFunction refuses an environment above Lambda's 4 KB", () => {
    expect(
      () =>
        new HouseFunction(newStack(), 'F', {
          purpose: 'testing',
          lambdaRoot: LAMBDA_ROOT,
          handlerName: 'canary',
          description: 'x',
          timeout: Duration.seconds(3),
          memoryMiB: 128,
          environment: { BIG: 'x'.repeat(5000) },
          logRetention: logs.RetentionDays.ONE_WEEK,
          logKey: logKey(),
        }),
    ).toThrow(/^HouseFunction canary: environment is \d+ bytes, above Lambda's 4096-byte limit$/);
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
