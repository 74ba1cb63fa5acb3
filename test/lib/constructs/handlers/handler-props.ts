import { Stack } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { stagingConfig, validateStageConfig } from '../../../../lib/config';
import { HandlerProps } from '../../../../lib/constructs/handlers/handler';
import { HandlerEnv } from '../../../../runtime/handler-env';
import { METRIC_NAMESPACE } from '../../../../runtime/metric-names';
import { constructStack, importedKey, LAMBDA_ROOT, Synthesized, synthConstruct } from '../../synth';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Json = Record<string, any>;

export const LOG_RETENTION = logs.RetentionDays.ONE_WEEK;
export const GATEWAY_CONFIG = validateStageConfig(stagingConfig);
const SECRET_ARN_PREFIX = 'arn:aws:secretsmanager:us-east-1:111111111111:secret:';
export const API_KEY_SECRET_ARN = `${SECRET_ARN_PREFIX}openai-api-key-AbCdEf`;
export const ADMIN_KEY_SECRET_ARN = `${SECRET_ARN_PREFIX}openai-admin-key-GhIjKl`;
export const KEY_ARN = 'arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab';

/** What every handler is given, the stage's resources imported into the test stack (`constructStack()`). */
export const handlerProps = (stack: Stack): HandlerProps => ({
  stage: 'Staging',
  lambdaRoot: LAMBDA_ROOT,
  gatewayConfig: GATEWAY_CONFIG,
  encryptionKey: importedKey(stack),
  logRetention: LOG_RETENTION,
});

/** The stage's secrets and access log bucket, imported into the test stack. */
export const importedDependencies = (stack: Stack) => ({
  apiKeySecret: secretsmanager.Secret.fromSecretCompleteArn(stack, 'ApiKey', API_KEY_SECRET_ARN),
  adminKeySecret: secretsmanager.Secret.fromSecretCompleteArn(stack, 'AdminKey', ADMIN_KEY_SECRET_ARN),
  accessLogBucket: s3.Bucket.fromBucketName(stack, 'AccessLogs', 'access-logs'),
  spendLedgerTableName: 'spend-ledger',
});

/** What `synthHandler` gives the handler it makes: every handler's props and the imported dependencies. */
export type HandlerTestProps = HandlerProps & ReturnType<typeof importedDependencies>;

/** The handler `make` builds alone in its stack from `HandlerTestProps`, synthesized with every compliance pack. */
export function synthHandler(make: (stack: Stack, props: HandlerTestProps) => unknown): Synthesized {
  const stack = constructStack();
  make(stack, { ...handlerProps(stack), ...importedDependencies(stack) });
  return synthConstruct(stack);
}

/** The properties of every Lambda function of the template. */
export const functionsOf = (s: Synthesized): Json[] =>
  Object.values(s.template.findResources('AWS::Lambda::Function')).map((r) => r.Properties as Json);

/**
 * What every handler's function is: the newest Node.js, ARM64, traced, with its own log group, an
 * explicit size, and the stage and OpenAI environment of `handlerProps`.
 */
export function expectHandlerFunction(s: Synthesized, fn: Json): void {
  expect(fn).toMatchObject({
    Runtime: 'nodejs24.x',
    Architectures: ['arm64'],
    TracingConfig: { Mode: 'Active' },
    LoggingConfig: { LogFormat: 'JSON', LogGroup: { Ref: expect.stringMatching(/Logs/) } },
  });
  expect(s.json.Resources[fn.LoggingConfig.LogGroup.Ref].Type).toBe('AWS::Logs::LogGroup');
  expect(fn.Timeout).toEqual(expect.any(Number));
  expect(fn.MemorySize).toEqual(expect.any(Number));
  expect(fn.Environment.Variables).toMatchObject({
    [HandlerEnv.stage]: 'Staging',
    POWERTOOLS_METRICS_NAMESPACE: METRIC_NAMESPACE,
    [HandlerEnv.openaiOrganization]: GATEWAY_CONFIG.upstream.organization,
    [HandlerEnv.openaiProject]: GATEWAY_CONFIG.upstream.project,
  });
}

/** Every IAM policy statement of the template. */
export const policyStatements = (s: Synthesized): Json[] =>
  Object.values(s.template.findResources('AWS::IAM::Policy')).flatMap(
    (r) => r.Properties.PolicyDocument.Statement as Json[],
  );

export const actionsOf = (statement: Json): string[] => [statement.Action].flat();
