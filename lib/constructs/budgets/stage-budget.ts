import * as budgets from 'aws-cdk-lib/aws-budgets';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';

export interface StageBudgetProps {
  /**
   * Budget name. Keep it stable: AWS Budgets replaces a budget whose name changes, and the replacement
   * can fail while the old name still exists.
   */
  readonly budgetName: string;
  /** Monthly AWS cost in USD. */
  readonly monthlyUsd: number;
  /** Percent of `monthlyUsd` of actual cost at which the topic is told. */
  readonly notifyAtPercent: number;
  /** Cost-allocation tag key that marks the stage's resources (activate it in the Billing console). */
  readonly tagKey: string;
  /** Value of `tagKey` on this stage's resources. */
  readonly tagValue: string;
  /** Topic that receives the notifications. */
  readonly topic: sns.ITopic;
}

/**
 * A monthly AWS cost budget for the stage, counted by its cost-allocation tag, telling on-call when
 * actual cost passes the threshold and when forecast cost passes the whole budget.
 */
export class StageBudget extends Construct {
  readonly budget: budgets.CfnBudget;

  constructor(scope: Construct, id: string, props: StageBudgetProps) {
    super(scope, id);
    if (!(props.monthlyUsd > 0))
      throw new Error(`StageBudget: monthlyUsd must be above 0, got ${props.monthlyUsd}`);
    if (!(props.notifyAtPercent >= 1 && props.notifyAtPercent <= 100)) {
      throw new Error(`StageBudget: notifyAtPercent must be from 1 to 100, got ${props.notifyAtPercent}`);
    }
    if (!/^[A-Za-z0-9_\-.]{1,100}$/.test(props.budgetName)) {
      throw new Error(
        `StageBudget: budgetName must be 1 to 100 letters, digits, "_", "-" or ".", got "${props.budgetName}"`,
      );
    }
    const subscribers = [{ subscriptionType: 'SNS', address: props.topic.topicArn }];
    this.budget = new budgets.CfnBudget(this, 'Budget', {
      budget: {
        budgetName: props.budgetName,
        budgetType: 'COST',
        timeUnit: 'MONTHLY',
        budgetLimit: { amount: props.monthlyUsd, unit: 'USD' },
        costFilters: { TagKeyValue: [`user:${props.tagKey}$${props.tagValue}`] },
      },
      notificationsWithSubscribers: [
        {
          notification: {
            notificationType: 'ACTUAL',
            comparisonOperator: 'GREATER_THAN',
            threshold: props.notifyAtPercent,
            thresholdType: 'PERCENTAGE',
          },
          subscribers,
        },
        {
          notification: {
            notificationType: 'FORECASTED',
            comparisonOperator: 'GREATER_THAN',
            threshold: 100,
            thresholdType: 'PERCENTAGE',
          },
          subscribers,
        },
      ],
    });
  }
}
