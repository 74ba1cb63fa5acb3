import { CanaryHandler, DEFAULT_CANARY_SETTINGS } from '../../../../lib/constructs/handlers/canary';
import { HandlerEnv } from '../../../../runtime/handler-env';
import { onlyResource, Synthesized } from '../../synth';
import {
  API_KEY_SECRET_ARN,
  actionsOf,
  expectHandlerFunction,
  synthHandler,
  policyStatements,
} from './handler-props';

describe('CanaryHandler', () => {
  let s: Synthesized;
  beforeAll(() => {
    s = synthHandler(
      (stack, props) =>
        new CanaryHandler(stack, 'Canary', { ...props, settings: { canaryModel: 'gpt-4.1-mini' } }),
    );
  });

  it('runs the canary on the newest Node.js, ARM64, traced, with its own log group', () => {
    expectHandlerFunction(s, onlyResource(s, 'AWS::Lambda::Function')[1].Properties);
  });

  it('gives the canary the environment of its contract: the API key secret and the configured model', () => {
    const variables = onlyResource(s, 'AWS::Lambda::Function')[1].Properties.Environment.Variables;
    expect(variables).toMatchObject({
      [HandlerEnv.openaiApiKeySecretArn]: API_KEY_SECRET_ARN,
      [HandlerEnv.canaryModel]: 'gpt-4.1-mini',
      POWERTOOLS_SERVICE_NAME: 'canary',
    });
    expect(variables).not.toHaveProperty(HandlerEnv.openaiAdminKeySecretArn);
  });

  it('schedules the canary every minute, without retries of a stale run', () => {
    const [, rule] = onlyResource(s, 'AWS::Events::Rule');
    expect(rule.Properties.ScheduleExpression).toBe('rate(1 minute)');
    expect(rule.Properties.Targets).toEqual([
      expect.objectContaining({ RetryPolicy: { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60 } }),
    ]);
  });

  it('lets the canary read the API key secret and nothing else of Secrets Manager', () => {
    const reads = policyStatements(s).filter((st) =>
      actionsOf(st).some((a) => a.startsWith('secretsmanager:')),
    );
    expect(reads.map((st) => st.Resource)).toEqual([API_KEY_SECRET_ARN]);
  });

  it('defaults to a model the base prices', () => {
    expect(DEFAULT_CANARY_SETTINGS).toEqual({ canaryModel: 'gpt-4o-mini' });
  });
});
