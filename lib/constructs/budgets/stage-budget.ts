import * as budgets from 'aws-cdk-lib/aws-budgets';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { SettingsProblems } from '../settings';

/**
 * The AWS Budgets budget of one stage's AWS bill: `StageConfig.infraBudget` (OpenAI spend has its own
 * budget in the gateway document).
 */
export interface StageBudgetSettings {
  /** Monthly AWS cost of the stage in USD, above 0, counted by the `Stage` cost-allocation tag. @default 1500 */
  readonly monthlyUsd: number;
  /** Percent of `monthlyUsd` of actual cost, 1 to 100, at which on-call is notified. @default 80 */
  readonly notifyAtPercent: number;
}

/** What `lib/config/base.ts` starts every stage from. */
export const DEFAULT_STAGE_BUDGET_SETTINGS: StageBudgetSettings = { monthlyUsd: 1500, notifyAtPercent: 80 };

/** Records every problem of `settings`. */
export function checkStageBudgetSettings(settings: StageBudgetSettings, problems: SettingsProblems): void {
  const { monthlyUsd, notifyAtPercent } = settings;
  const f = (name: keyof StageBudgetSettings) => problems.field(name);
  problems.expect(monthlyUsd > 0, () => `${f('monthlyUsd')} must be above 0, got ${monthlyUsd}`);
  problems.expect(
    notifyAtPercent >= 1 && notifyAtPercent <= 100,
    () => `${f('notifyAtPercent')} must be from 1 to 100, got ${notifyAtPercent}`,
  );
}

/** What AWS Budgets accepts as a budget name. */
const BUDGET_NAME = /^[A-Za-z0-9_\-.]{1,100}$/;

export interface StageBudgetProps {
  readonly settings: StageBudgetSettings;
  /**
   * Budget name. Keep it stable: AWS Budgets replaces a budget whose name changes, and the replacement
   * can fail while the old name still exists.
   */
  readonly budgetName: string;
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
    const problems = new SettingsProblems();
    checkStageBudgetSettings(props.settings, problems);
    problems.expect(
      BUDGET_NAME.test(props.budgetName),
      () => `budgetName must be 1 to 100 letters, digits, "_", "-" or ".", got "${props.budgetName}"`,
    );
    problems.throwIfAny('StageBudget');
    const { monthlyUsd, notifyAtPercent } = props.settings;
    const subscribers = [{ subscriptionType: 'SNS', address: props.topic.topicArn }];
    this.budget = new budgets.CfnBudget(this, 'Budget', {
      budget: {
        budgetName: props.budgetName,
        budgetType: 'COST',
        timeUnit: 'MONTHLY',
        budgetLimit: { amount: monthlyUsd, unit: 'USD' },
        costFilters: { TagKeyValue: [`user:${props.tagKey}$${props.tagValue}`] },
      },
      notificationsWithSubscribers: [
        {
          notification: {
            notificationType: 'ACTUAL',
            comparisonOperator: 'GREATER_THAN',
            threshold: notifyAtPercent,
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
