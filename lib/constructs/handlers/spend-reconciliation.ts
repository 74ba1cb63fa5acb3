import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { HandlerEnv } from '../../../runtime/handler-env';
import { SHARED_ACKNOWLEDGMENTS, acknowledge } from '../../acknowledgments';
import { Handler, HandlerProps, newHandlerFunction } from './handler';
import { HouseFunction } from './house-function';

/** When spend reconciliation runs. */
export const SPEND_RECONCILIATION_SCHEDULE = events.Schedule.rate(Duration.hours(1));

export interface SpendReconciliationHandlerProps extends HandlerProps {
  /** The OpenAI admin key secret, for the costs API; it is granted read. */
  readonly adminKeySecret: secretsmanager.ISecret;
  /**
   * Name of the stage's spend ledger table, which reconciliation raises to OpenAI's billed cost; the
   * caller grants the role (`SpendLedger.grantReconciliation`).
   */
  readonly spendLedgerTableName: string;
}

/**
 * Spend reconciliation (`lambda/spend-reconciliation/`): every hour, compares the gateway's metered
 * spend with OpenAI's costs API and raises the spend ledger to it.
 */
export class SpendReconciliationHandler extends Handler {
  readonly handler: HouseFunction;

  constructor(scope: Construct, id: string, props: SpendReconciliationHandlerProps) {
    super(scope, id);
    const metricReads = ['cloudwatch:GetMetricData'];
    this.handler = newHandlerFunction(this, props, {
      handlerName: 'spend-reconciliation',
      description:
        "compares the gateway's metered spend with OpenAI's costs API and raises the spend ledger to it",
      purpose: "the hourly comparison of metered spend with OpenAI's costs",
      timeout: Duration.minutes(2),
      memoryMiB: 256,
      environment: {
        [HandlerEnv.openaiAdminKeySecretArn]: props.adminKeySecret.secretArn,
        [HandlerEnv.spendLedgerTable]: props.spendLedgerTableName,
      },
      wildcardResourceActions: metricReads,
    });
    props.adminKeySecret.grantRead(this.handler.role);
    this.handler.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: metricReads, resources: ['*'] }),
    );
    acknowledge(this.handler.function, SHARED_ACKNOWLEDGMENTS.lambdaRetriedBySchedule);
    const schedule = new events.Rule(this, 'Schedule', {
      description: `${props.stage}: runs spend reconciliation`,
      schedule: SPEND_RECONCILIATION_SCHEDULE,
      targets: [new targets.LambdaFunction(this.handler.function, { retryAttempts: 2 })],
    });
    acknowledge(schedule, SHARED_ACKNOWLEDGMENTS.scheduleWithoutDlq);
  }
}
