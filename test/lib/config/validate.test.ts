import { App } from 'aws-cdk-lib';
import { productionConfig, stagingConfig, StageConfigError, validateStageConfig } from '../../../lib/config';
import { GatewayStage } from '../../../lib/stages/gateway-stage';
import { GATEWAY_IMAGE_DIRECTORY, LAMBDA_ROOT, withChanges } from '../synth';

/** The config fails validation with a StageConfigError whose message is exactly `message`. */
const expectError = (config: Parameters<typeof validateStageConfig>[0], message: string): void => {
  let thrown: unknown;
  try {
    validateStageConfig(config);
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(StageConfigError);
  expect((thrown as Error).message).toBe(message);
};

describe('the example stage configs', () => {
  it.each([stagingConfig, productionConfig])(
    '$name is valid and returns the gateway document stamped with its stage',
    (config) => {
      const gateway = validateStageConfig(config);
      expect(gateway.stage).toBe(config.name);
      expect(gateway.upstream.organization).toBe(config.gateway.upstream.organization);
      expect(gateway.clients.map((c) => c.keySha256)).toEqual(config.gateway.clients.map((c) => c.keySha256));
    },
  );

  it('puts staging and production in different accounts', () => {
    expect(stagingConfig.env.account).not.toBe(productionConfig.env.account);
  });

  it('makes production bigger and safer than staging where it matters', () => {
    expect(productionConfig.resilience).toEqual({
      removalPolicy: 'retain',
      deletionProtection: true,
      terminationProtection: true,
      accessLogDays: 365,
      requireMultiAz: true,
    });
    expect(stagingConfig.resilience).toEqual({
      removalPolicy: 'destroy',
      deletionProtection: false,
      terminationProtection: false,
      accessLogDays: 30,
      requireMultiAz: false,
    });
    expect(productionConfig.service.minTasks).toBeGreaterThanOrEqual(2);
    expect(productionConfig.cache.nodes).toBeGreaterThanOrEqual(2);
    expect(productionConfig.network.maxAzs).toBeGreaterThanOrEqual(2);
    expect(stagingConfig.service.cpu).toBeLessThan(productionConfig.service.cpu);
  });
});

describe('validateStageConfig', () => {
  it('refuses a region outside the US', () => {
    expectError(
      withChanges(stagingConfig, (c) => (c.env.region = 'eu-west-1')),
      'Staging: env.region "eu-west-1" is not a US region; use one of us-east-1, us-east-2, us-west-1, us-west-2',
    );
  });

  it('refuses an account that is not 12 digits', () => {
    expectError(
      withChanges(stagingConfig, (c) => (c.env.account = '1234')),
      'Staging: env.account must be a 12-digit AWS account ID, got "1234"',
    );
  });

  it('refuses a default max_tokens above the cap (the gateway parser, with the stage in front)', () => {
    expectError(
      withChanges(stagingConfig, (c) => (c.gateway.limits.defaultMaxTokens = 8192)),
      'Staging: gateway config: limits.defaultMaxTokens must not exceed limits.maxTokens (4096)',
    );
  });

  it('refuses a client allowed more requests per minute than the whole stage', () => {
    expectError(
      withChanges(stagingConfig, (c) => (c.gateway.clients[0].rpm = 500)),
      'Staging: gateway.clients[0].rpm (500) must not exceed gateway.rateLimits.rpm (120)',
    );
  });

  it('refuses a client allowed more tokens per minute than the whole stage', () => {
    expectError(
      withChanges(stagingConfig, (c) => (c.gateway.clients[0].tpm = 500_000)),
      'Staging: gateway.clients[0].tpm (500000) must not exceed gateway.rateLimits.tpm (120000)',
    );
  });

  it('refuses a max_tokens cap that no client could ever be admitted for', () => {
    expectError(
      withChanges(stagingConfig, (c) => {
        c.gateway.limits.maxTokens = 100_000;
        c.gateway.limits.defaultMaxTokens = 1000;
      }),
      'Staging: gateway.limits.maxTokens (100000) must not exceed gateway.clients[0].tpm (60000): a request at the cap could never be admitted',
    );
  });

  it('refuses a max_tokens cap larger than one burst of the stage TPM', () => {
    expectError(
      withChanges(stagingConfig, (c) => (c.gateway.rateLimits.burstSeconds = 1)),
      'Staging: gateway.limits.maxTokens (4096) must not exceed what gateway.rateLimits.tpm allows in one burst of gateway.rateLimits.burstSeconds (2000): a request at the cap could never be admitted',
    );
  });

  it('refuses a client budget above the stage budget', () => {
    expectError(
      withChanges(productionConfig, (c) => (c.gateway.clients[0].monthlyBudgetUsd = 5000)),
      'Production: gateway config: clients[0].monthlyBudgetUsd (5000) must not exceed budget.monthlyUsd (1000)',
    );
  });

  it('refuses an alias to a model without a price', () => {
    expectError(
      withChanges(stagingConfig, (c) => (c.gateway.aliases = { default: 'gpt-4.1' })),
      'Staging: gateway config: aliases.default points to "gpt-4.1", which has no price in models',
    );
  });

  it('refuses a client allowed a model without a price', () => {
    expectError(
      withChanges(stagingConfig, (c) => (c.gateway.clients[0].models = ['gpt-4o'])),
      'Staging: gateway config: clients[0].models[0] names "gpt-4o", which is neither a model nor an alias',
    );
  });

  it('refuses a canary model without a price', () => {
    expectError(
      withChanges(stagingConfig, (c) => (c.handlers.canaryModel = 'o3')),
      'Staging: handlers.canaryModel "o3" has no price in gateway.models and is no alias',
    );
  });

  it('requires the OpenAI organization and project', () => {
    expectError(
      withChanges(stagingConfig, (c) => delete (c.gateway.upstream as { project?: string }).project),
      'Staging: gateway.upstream.project must name the OpenAI project of this stage (proj_...)',
    );
  });

  it('refuses scaling bounds with min above max', () => {
    expectError(
      withChanges(stagingConfig, (c) => {
        c.service.minTasks = 3;
        c.service.maxTasks = 2;
      }),
      'Staging: service.maxTasks (2) must be an integer of at least service.minTasks (3)',
    );
  });

  it('refuses fewer than 2 tasks when the stage requires multi-AZ', () => {
    expectError(
      withChanges(productionConfig, (c) => (c.service.minTasks = 1)),
      'Production: service.minTasks must be at least 2 when resilience.requireMultiAz is true (one task per AZ), got 1',
    );
  });

  it('refuses a cache without failover when the stage requires multi-AZ', () => {
    expectError(
      withChanges(productionConfig, (c) => (c.cache.nodes = 1)),
      'Production: cache.nodes must be at least 2 when resilience.requireMultiAz is true (automatic failover), got 1',
    );
  });

  it('refuses a VPC in one AZ when the stage requires multi-AZ', () => {
    expectError(
      withChanges(productionConfig, (c) => {
        c.network.maxAzs = 1;
        c.network.natGateways = 1;
      }),
      'Production: network.maxAzs must be at least 2 when resilience.requireMultiAz is true, got 1',
    );
  });

  it('lets a stage that does not require multi-AZ run one AZ, one task and one cache node', () => {
    const config = withChanges(stagingConfig, (c) => {
      c.network.maxAzs = 1;
      c.network.natGateways = 1;
    });
    expect(config.service.minTasks).toBe(1);
    expect(config.cache.nodes).toBe(1);
    expect(validateStageConfig(config).stage).toBe('Staging');
  });

  it('applies the multi-AZ rules to any stage that sets requireMultiAz, whatever its name', () => {
    expectError(
      withChanges(stagingConfig, (c) => (c.resilience.requireMultiAz = true)),
      [
        'Staging: 2 problems:',
        '  - service.minTasks must be at least 2 when resilience.requireMultiAz is true (one task per AZ), got 1',
        '  - cache.nodes must be at least 2 when resilience.requireMultiAz is true (automatic failover), got 1',
      ].join('\n'),
    );
  });

  it('reports every problem of every group at once, each field by its path in the stage config', () => {
    let thrown: unknown;
    try {
      validateStageConfig(
        withChanges(stagingConfig, (c) => {
          c.env.region = 'eu-west-1';
          c.network.maxAzs = 4;
          c.network.natGateways = 5;
          c.resilience.accessLogDays = 0;
        }),
      );
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(StageConfigError);
    expect((thrown as StageConfigError).problems).toEqual([
      'env.region "eu-west-1" is not a US region; use one of us-east-1, us-east-2, us-west-1, us-west-2',
      'resilience.accessLogDays must be a positive integer, got 0',
      'network.maxAzs must be 1, 2 or 3, got 4',
      'network.natGateways must be from 1 to network.maxAzs (4), got 5',
    ]);
  });

  it('refuses a deletion protection that is not true or false', () => {
    expectError(
      withChanges(
        stagingConfig,
        (c) => ((c.resilience as { deletionProtection: unknown }).deletionProtection = 'yes'),
      ),
      'Staging: resilience.deletionProtection must be true or false, got yes',
    );
  });

  it('refuses a removal policy other than retain or destroy', () => {
    expectError(
      withChanges(
        stagingConfig,
        (c) => ((c.resilience as { removalPolicy: string }).removalPolicy = 'snapshot'),
      ),
      'Staging: resilience.removalPolicy must be "retain" or "destroy", got "snapshot"',
    );
  });

  it.each([0, 1.5, -30])('refuses %s days of access logs', (days) => {
    expectError(
      withChanges(stagingConfig, (c) => (c.resilience.accessLogDays = days)),
      `Staging: resilience.accessLogDays must be a positive integer, got ${days}`,
    );
  });

  it('refuses a memory size Fargate does not offer for the CPU', () => {
    expectError(
      withChanges(stagingConfig, (c) => (c.service.memoryMiB = 8192)),
      'Staging: service.memoryMiB 8192 is not a Fargate size for service.cpu 256',
    );
  });

  it('refuses an internet-facing ALB without a certificate', () => {
    expectError(
      withChanges(productionConfig, (c) => delete (c.service as { certificateArn?: string }).certificateArn),
      'Production: service.certificateArn is required when service.internetFacing is true: callers send API keys in every request',
    );
  });

  it('refuses a certificate from another region', () => {
    expectError(
      withChanges(
        productionConfig,
        (c) => (c.service.certificateArn = 'arn:aws:acm:us-west-2:222222222222:certificate/abc'),
      ),
      "Production: service.certificateArn must be in the stage's account 222222222222 and region us-east-1",
    );
  });

  it('refuses a stop timeout that leaves the gateway no time to drain', () => {
    expectError(
      withChanges(stagingConfig, (c) => (c.service.stopTimeoutSeconds = 5)),
      'Staging: service.stopTimeoutSeconds must be an integer above 5 and at most 120, got 5',
    );
  });

  it('refuses an infrastructure budget notification above 100%', () => {
    expectError(
      withChanges(stagingConfig, (c) => (c.infraBudget.notifyAtPercent = 120)),
      'Staging: infraBudget.notifyAtPercent must be from 1 to 100, got 120',
    );
  });

  it('refuses a pager endpoint that is not HTTPS', () => {
    expectError(
      withChanges(stagingConfig, (c) => (c.onCall.pagerUrl = 'http://pager.example.com/hook')),
      'Staging: onCall.pagerUrl must be an https:// URL, got "http://pager.example.com/hook"',
    );
  });

  it('refuses an on-call group that would tell no one', () => {
    expectError(
      withChanges(stagingConfig, (c) => (c.onCall.emails = [])),
      'Staging: onCall.emails must name at least one email when there is no onCall.pagerUrl',
    );
  });

  it('refuses a certificate that is not an ACM certificate ARN, and does not also judge its location', () => {
    expectError(
      withChanges(
        productionConfig,
        (c) => (c.service.certificateArn = 'arn:aws:iam::222222222222:server-certificate/x'),
      ),
      'Production: service.certificateArn must be an ACM certificate ARN, got "arn:aws:iam::222222222222:server-certificate/x"',
    );
  });

  it('reports the problems of the service, cache, on-call and budget groups at once, each by its path', () => {
    let thrown: unknown;
    try {
      validateStageConfig(
        withChanges(stagingConfig, (c) => {
          c.service.maxTasks = 0;
          c.service.wafRequestsPer5MinPerIp = 5;
          c.cache.nodes = 7;
          c.onCall.emails = ['not an email'];
          c.infraBudget.monthlyUsd = 0;
        }),
      );
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(StageConfigError);
    expect((thrown as StageConfigError).problems).toEqual([
      'service.maxTasks (0) must be an integer of at least service.minTasks (1)',
      'service.wafRequestsPer5MinPerIp must be an integer of at least 10 (the WAF minimum), got 5',
      'cache.nodes must be an integer from 1 to 6, got 7',
      'onCall.emails[0] must be an email address, got "not an email"',
      'infraBudget.monthlyUsd must be above 0, got 0',
    ]);
  });

  it('refuses a log retention CloudWatch Logs does not offer', () => {
    expect(() => validateStageConfig(withChanges(stagingConfig, (c) => (c.logRetentionDays = 10)))).toThrow(
      /^Staging: logRetentionDays must be one of 1, 3, 5, 7, 14, .*, got 10$/,
    );
  });
});

describe('GatewayStage', () => {
  it('validates its config before it builds anything', () => {
    const app = new App();
    const config = withChanges(stagingConfig, (c) => (c.env.region = 'ap-southeast-2'));
    expect(
      () =>
        new GatewayStage(app, {
          config,
          gatewayImageDirectory: GATEWAY_IMAGE_DIRECTORY,
          lambdaRoot: LAMBDA_ROOT,
        }),
    ).toThrow(
      'Staging: env.region "ap-southeast-2" is not a US region; use one of us-east-1, us-east-2, us-west-1, us-west-2',
    );
    expect(app.node.children).toHaveLength(0);
  });
});
