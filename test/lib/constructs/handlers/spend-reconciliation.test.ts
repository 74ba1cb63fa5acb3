import { SpendReconciliationHandler } from '../../../../lib/constructs/handlers/spend-reconciliation';
import { HandlerEnv } from '../../../../runtime/handler-env';
import { onlyResource, Synthesized } from '../../synth';
import {
  ADMIN_KEY_SECRET_ARN,
  actionsOf,
  expectHandlerFunction,
  synthHandler,
  policyStatements,
} from './handler-props';

describe('SpendReconciliationHandler', () => {
  let s: Synthesized;
  beforeAll(() => {
    s = synthHandler(
      (stack, props) => new SpendReconciliationHandler(stack, 'SpendReconciliation', { ...props }),
    );
  });

  it('runs spend reconciliation on the newest Node.js, ARM64, traced, with its own log group', () => {
    expectHandlerFunction(s, onlyResource(s, 'AWS::Lambda::Function')[1].Properties);
  });

  it('gives spend reconciliation the environment of its contract: the admin key secret and the spend ledger', () => {
    const variables = onlyResource(s, 'AWS::Lambda::Function')[1].Properties.Environment.Variables;
    expect(variables).toMatchObject({
      [HandlerEnv.openaiAdminKeySecretArn]: ADMIN_KEY_SECRET_ARN,
      [HandlerEnv.spendLedgerTable]: 'spend-ledger',
      POWERTOOLS_SERVICE_NAME: 'spend-reconciliation',
    });
    expect(variables).not.toHaveProperty(HandlerEnv.openaiApiKeySecretArn);
  });

  it('schedules spend reconciliation hourly, retried twice', () => {
    const [, rule] = onlyResource(s, 'AWS::Events::Rule');
    expect(rule.Properties.ScheduleExpression).toBe('rate(1 hour)');
    expect(rule.Properties.Targets).toEqual([
      expect.objectContaining({ RetryPolicy: { MaximumRetryAttempts: 2 } }),
    ]);
  });

  it('gives spend reconciliation GetMetricData and the admin key only', () => {
    const statements = policyStatements(s);
    const actions = statements.flatMap(actionsOf).sort();
    expect(actions).toContain('cloudwatch:GetMetricData');
    expect(actions.filter((a) => a.startsWith('secretsmanager:'))).toEqual([
      'secretsmanager:DescribeSecret',
      'secretsmanager:GetSecretValue',
    ]);
    const secretStatements = statements.filter((st) =>
      actionsOf(st).some((a) => a.startsWith('secretsmanager:')),
    );
    expect(secretStatements.map((st) => st.Resource)).toEqual([ADMIN_KEY_SECRET_ARN]);
  });
});
