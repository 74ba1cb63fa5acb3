import { Duration, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { HandlerEnv } from '../../../runtime/handler-env';
import { acknowledge, nag } from '../../acknowledgments';
import { SettingsProblems, isIntegerIn } from '../settings';
import { Handler, HandlerProps, newHandlerFunction } from './handler';
import { HouseFunction } from './house-function';

/** Key rotation's part of `StageConfig.handlers`. */
export interface KeyRotationSettings {
  /** Days between rotations of the OpenAI API key secret, 1 to 1000 (Secrets Manager's range). @default 30 */
  readonly keyRotationDays: number;
}

export const DEFAULT_KEY_ROTATION_SETTINGS: KeyRotationSettings = { keyRotationDays: 30 };

/** Records every problem of `settings`. */
export function checkKeyRotationSettings(settings: KeyRotationSettings, problems: SettingsProblems): void {
  const { keyRotationDays } = settings;
  problems.expect(
    isIntegerIn(keyRotationDays, 1, 1000),
    () => `${problems.field('keyRotationDays')} must be an integer from 1 to 1000, got ${keyRotationDays}`,
  );
}

export interface KeyRotationHandlerProps extends HandlerProps {
  readonly settings: KeyRotationSettings;
  /** The OpenAI API key secret the handler rotates: its rotation schedule is made here. */
  readonly apiKeySecret: secretsmanager.ISecret;
  /** The OpenAI admin key secret, which creates and deletes project keys; it is granted read. */
  readonly adminKeySecret: secretsmanager.ISecret;
}

/**
 * Key rotation (`lambda/key-rotation/`): the rotation function of the API key secret, which replaces
 * the OpenAI project key every `keyRotationDays`. Only Secrets Manager rotating that secret may invoke it.
 */
export class KeyRotationHandler extends Handler {
  readonly handler: HouseFunction;

  constructor(scope: Construct, id: string, props: KeyRotationHandlerProps) {
    super(scope, id);
    const problems = new SettingsProblems();
    checkKeyRotationSettings(props.settings, problems);
    problems.throwIfAny('KeyRotationHandler');

    this.handler = newHandlerFunction(this, props, {
      handlerName: 'key-rotation',
      description: 'rotates the OpenAI project key in the API key secret',
      purpose: 'rotating the OpenAI project key',
      timeout: Duration.minutes(2),
      memoryMiB: 256,
      environment: {
        [HandlerEnv.openaiApiKeySecretArn]: props.apiKeySecret.secretArn,
        [HandlerEnv.openaiAdminKeySecretArn]: props.adminKeySecret.secretArn,
      },
      wildcardResourceActions: ['secretsmanager:GetRandomPassword'],
    });
    props.adminKeySecret.grantRead(this.handler.role);
    // The schedule grants the rotation steps (Describe/Get/Put/UpdateSecretVersionStage) on this secret and its key.
    props.apiKeySecret.addRotationSchedule('Rotation', {
      rotationLambda: this.handler.function,
      automaticallyAfter: Duration.days(props.settings.keyRotationDays),
      // The secret starts empty: the first rotation waits for the operator's first value and the schedule.
      rotateImmediatelyOnUpdate: false,
    });
    this.allowInvocationOnlyByRotationOf(props.apiKeySecret);
    acknowledge(this.handler.function, {
      ids: nag('LambdaDLQ', 'nist', 'hipaa', 'serverless'),
      reason:
        'Secrets Manager invokes the rotation function synchronously, step by step, and keeps the secret on its current version when a step fails (retrying at the next rotation); a dead-letter queue only receives asynchronous invocations, so it would never hold anything. Failures are alarmed by KeyRotationErrors.',
    });
  }

  /**
   * Secrets Manager may invoke the rotation function only to rotate `secret` of this account: the
   * permission `addRotationSchedule` adds names the service principal alone, so without a source any
   * account's secret could have Secrets Manager invoke it (a confused deputy).
   */
  private allowInvocationOnlyByRotationOf(secret: secretsmanager.ISecret): void {
    const permissions = this.handler.function.node.children.filter(
      (child): child is lambda.CfnPermission => child instanceof lambda.CfnPermission,
    );
    if (permissions.length !== 1)
      throw new Error(`KeyRotationHandler: expected one rotation permission, found ${permissions.length}`);
    permissions[0].sourceAccount = Stack.of(this).account;
    permissions[0].sourceArn = secret.secretArn;
  }
}
