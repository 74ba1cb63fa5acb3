import {
  DEFAULT_KEY_ROTATION_SETTINGS,
  KeyRotationHandler,
  KeyRotationSettings,
  checkKeyRotationSettings,
} from '../../../../lib/constructs/handlers/key-rotation';
import { SettingsProblems } from '../../../../lib/constructs/settings';
import { HandlerEnv } from '../../../../runtime/handler-env';
import { constructStack, onlyResource, Synthesized } from '../../synth';
import {
  ADMIN_KEY_SECRET_ARN,
  API_KEY_SECRET_ARN,
  actionsOf,
  expectHandlerFunction,
  handlerProps,
  importedDependencies,
  synthHandler,
  policyStatements,
} from './handler-props';

describe('KeyRotationHandler', () => {
  let s: Synthesized;
  beforeAll(() => {
    s = synthHandler(
      (stack, props) =>
        new KeyRotationHandler(stack, 'KeyRotation', { ...props, settings: { keyRotationDays: 45 } }),
    );
  });

  const functionId = (): string => onlyResource(s, 'AWS::Lambda::Function')[0];

  it('runs key rotation on the newest Node.js, ARM64, traced, with its own log group', () => {
    expectHandlerFunction(s, onlyResource(s, 'AWS::Lambda::Function')[1].Properties);
  });

  it('gives key rotation the environment of its contract: both key secrets', () => {
    expect(onlyResource(s, 'AWS::Lambda::Function')[1].Properties.Environment.Variables).toMatchObject({
      [HandlerEnv.openaiApiKeySecretArn]: API_KEY_SECRET_ARN,
      [HandlerEnv.openaiAdminKeySecretArn]: ADMIN_KEY_SECRET_ARN,
      POWERTOOLS_SERVICE_NAME: 'key-rotation',
    });
  });

  it('rotates the API key secret with the handler every configured number of days', () => {
    expect(onlyResource(s, 'AWS::SecretsManager::RotationSchedule')[1].Properties).toEqual({
      SecretId: API_KEY_SECRET_ARN,
      RotationLambdaARN: { 'Fn::GetAtt': [functionId(), 'Arn'] },
      RotationRules: { ScheduleExpression: 'rate(45 days)' },
      RotateImmediatelyOnUpdate: false,
    });
  });

  it('lets the key-rotation handler run every rotation step on the API key secret, and read the admin key', () => {
    const statements = policyStatements(s);
    const onApiKey = statements.filter(
      (st) => JSON.stringify(st.Resource) === JSON.stringify(API_KEY_SECRET_ARN),
    );
    expect(onApiKey.flatMap(actionsOf)).toEqual(
      expect.arrayContaining([
        'secretsmanager:DescribeSecret',
        'secretsmanager:GetSecretValue',
        'secretsmanager:PutSecretValue',
        'secretsmanager:UpdateSecretVersionStage',
      ]),
    );
    const adminReads = statements.filter(
      (st) =>
        actionsOf(st).includes('secretsmanager:GetSecretValue') &&
        [st.Resource].flat().includes(ADMIN_KEY_SECRET_ARN),
    );
    expect(adminReads).toHaveLength(1);
    s.template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'secretsmanager.amazonaws.com',
      FunctionName: { 'Fn::GetAtt': [functionId(), 'Arn'] },
    });
  });

  it('lets Secrets Manager invoke the rotation function only for this account and this secret', () => {
    const [, permission] = onlyResource(s, 'AWS::Lambda::Permission');
    expect(permission.Properties).toMatchObject({
      Principal: 'secretsmanager.amazonaws.com',
      SourceAccount: '111111111111',
      SourceArn: API_KEY_SECRET_ARN,
    });
  });

  describe('settings check', () => {
    const problemsOf = (settings: KeyRotationSettings, at = ''): readonly string[] => {
      const problems = new SettingsProblems(at);
      checkKeyRotationSettings(settings, problems);
      return problems.list;
    };

    it('passes the default settings', () => {
      expect(DEFAULT_KEY_ROTATION_SETTINGS).toEqual({ keyRotationDays: 30 });
      expect(problemsOf(DEFAULT_KEY_ROTATION_SETTINGS)).toEqual([]);
    });

    it.each([0, 1001, 1.5])('refuses %s days between rotations, naming the field by its path', (days) => {
      expect(problemsOf({ keyRotationDays: days }, 'handlers.')).toEqual([
        `handlers.keyRotationDays must be an integer from 1 to 1000, got ${days}`,
      ]);
    });

    it('is what the construct runs on its props, before it makes anything', () => {
      const stack = constructStack();
      expect(
        () =>
          new KeyRotationHandler(stack, 'K', {
            ...handlerProps(stack),
            ...importedDependencies(stack),
            settings: { keyRotationDays: 0 },
          }),
      ).toThrow(new Error('KeyRotationHandler: keyRotationDays must be an integer from 1 to 1000, got 0'));
      expect(stack.node.tryFindChild('K')?.node.children).toHaveLength(0);
    });
  });
});
