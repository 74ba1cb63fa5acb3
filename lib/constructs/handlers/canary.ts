import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { HandlerEnv } from '../../../runtime/handler-env';
import { SHARED_ACKNOWLEDGMENTS, acknowledge } from '../../acknowledgments';
import { Handler, HandlerProps, newHandlerFunction } from './handler';
import { HouseFunction } from './house-function';

/** The canary's part of `StageConfig.handlers`. It has no check of its own: its one rule, a priced model, is between groups (validate.ts). */
export interface CanarySettings {
  /** Model or alias the canary calls once a minute; must have a price in the gateway document. @default 'gpt-4o-mini' */
  readonly canaryModel: string;
}

export const DEFAULT_CANARY_SETTINGS: CanarySettings = { canaryModel: 'gpt-4o-mini' };

/** When the canary runs. */
export const CANARY_SCHEDULE = events.Schedule.rate(Duration.minutes(1));

export interface CanaryHandlerProps extends HandlerProps {
  readonly settings: CanarySettings;
  /** The OpenAI API key secret the canary calls with; it is granted read. */
  readonly apiKeySecret: secretsmanager.ISecret;
}

/** The canary (`lambda/canary/`): one call to OpenAI every minute, recording success, latency and time to first token. */
export class CanaryHandler extends Handler {
  readonly handler: HouseFunction;

  constructor(scope: Construct, id: string, props: CanaryHandlerProps) {
    super(scope, id);
    this.handler = newHandlerFunction(this, props, {
      handlerName: 'canary',
      description: 'calls OpenAI once a minute and records success, latency and time to first token',
      purpose: 'the once-a-minute canary call to OpenAI',
      timeout: Duration.seconds(30),
      memoryMiB: 256,
      environment: {
        [HandlerEnv.openaiApiKeySecretArn]: props.apiKeySecret.secretArn,
        [HandlerEnv.canaryModel]: props.settings.canaryModel,
      },
    });
    props.apiKeySecret.grantRead(this.handler.role);
    acknowledge(this.handler.function, SHARED_ACKNOWLEDGMENTS.lambdaRetriedBySchedule);
    const schedule = new events.Rule(this, 'Schedule', {
      description: `${props.stage}: runs the canary`,
      schedule: CANARY_SCHEDULE,
      targets: [
        new targets.LambdaFunction(this.handler.function, {
          retryAttempts: 0,
          maxEventAge: Duration.minutes(1),
        }),
      ],
    });
    acknowledge(schedule, SHARED_ACKNOWLEDGMENTS.scheduleWithoutDlq);
  }
}
