import {
  DEFAULT_STAGE_BUDGET_SETTINGS,
  StageBudget,
  StageBudgetProps,
  StageBudgetSettings,
  checkStageBudgetSettings,
} from '../../../lib/constructs/budgets/stage-budget';
import { SettingsProblems } from '../../../lib/constructs/settings';
import { constructStack, importedTopic, Synthesized, synthConstruct } from '../synth';

type Stack = ReturnType<typeof constructStack>;

const TOPIC_ARN = 'arn:aws:sns:us-east-1:111111111111:on-call';

const budgetProps = (stack: Stack, settings: StageBudgetSettings): StageBudgetProps => ({
  settings,
  budgetName: 'Gateway-Test-monthly',
  tagKey: 'Stage',
  tagValue: 'Test',
  topic: importedTopic(stack),
});

/** A StageBudget alone in its stack, synthesized with every compliance pack. */
const synthBudget = (settings: StageBudgetSettings): Synthesized => {
  const stack = constructStack();
  new StageBudget(stack, 'Budget', budgetProps(stack, settings));
  return synthConstruct(stack);
};

describe('StageBudget', () => {
  describe.each([
    ['the default settings', DEFAULT_STAGE_BUDGET_SETTINGS],
    ['a small stage', { monthlyUsd: 150, notifyAtPercent: 50 }],
  ])('with %s', (_name, settings) => {
    let s: Synthesized;
    beforeAll(() => (s = synthBudget(settings)));

    it('has a stable-named monthly cost budget filtered by the tag, notifying the topic', () => {
      s.template.resourceCountIs('AWS::Budgets::Budget', 1);
      s.template.hasResourceProperties('AWS::Budgets::Budget', {
        Budget: {
          BudgetName: 'Gateway-Test-monthly',
          BudgetType: 'COST',
          TimeUnit: 'MONTHLY',
          BudgetLimit: { Amount: settings.monthlyUsd, Unit: 'USD' },
          CostFilters: { TagKeyValue: ['user:Stage$Test'] },
        },
        NotificationsWithSubscribers: [
          {
            Notification: {
              NotificationType: 'ACTUAL',
              ComparisonOperator: 'GREATER_THAN',
              Threshold: settings.notifyAtPercent,
              ThresholdType: 'PERCENTAGE',
            },
            Subscribers: [{ SubscriptionType: 'SNS', Address: TOPIC_ARN }],
          },
          {
            Notification: {
              NotificationType: 'FORECASTED',
              ComparisonOperator: 'GREATER_THAN',
              Threshold: 100,
              ThresholdType: 'PERCENTAGE',
            },
            Subscribers: [{ SubscriptionType: 'SNS', Address: TOPIC_ARN }],
          },
        ],
      });
    });
  });

  describe('settings check', () => {
    const problemsOf = (settings: StageBudgetSettings, at = ''): readonly string[] => {
      const problems = new SettingsProblems(at);
      checkStageBudgetSettings(settings, problems);
      return problems.list;
    };

    it('passes the default settings', () => {
      expect(problemsOf(DEFAULT_STAGE_BUDGET_SETTINGS)).toEqual([]);
    });

    it('reports every problem at once, each field by its path', () => {
      expect(problemsOf({ monthlyUsd: 0, notifyAtPercent: 120 }, 'infraBudget.')).toEqual([
        'infraBudget.monthlyUsd must be above 0, got 0',
        'infraBudget.notifyAtPercent must be from 1 to 100, got 120',
      ]);
    });

    it('is what the construct runs on its settings, with its own budget name rule, before it makes anything', () => {
      const stack = constructStack();
      const props = {
        ...budgetProps(stack, { monthlyUsd: -1, notifyAtPercent: 0 }),
        budgetName: 'has spaces',
      };
      expect(() => new StageBudget(stack, 'B', props)).toThrow(
        [
          'StageBudget: 3 problems:',
          '  - monthlyUsd must be above 0, got -1',
          '  - notifyAtPercent must be from 1 to 100, got 0',
          '  - budgetName must be 1 to 100 letters, digits, "_", "-" or ".", got "has spaces"',
        ].join('\n'),
      );
      expect(stack.node.tryFindChild('B')?.node.children).toHaveLength(0);
    });

    it.each([
      [{ monthlyUsd: 0 }, 'StageBudget: monthlyUsd must be above 0, got 0'],
      [{ notifyAtPercent: 0 }, 'StageBudget: notifyAtPercent must be from 1 to 100, got 0'],
    ])('refuses %j alone with its one message', (change, message) => {
      const stack = constructStack();
      const settings = { ...DEFAULT_STAGE_BUDGET_SETTINGS, ...change };
      expect(() => new StageBudget(stack, 'B', budgetProps(stack, settings))).toThrow(new Error(message));
    });

    it('refuses a budget name AWS Budgets does not accept', () => {
      const stack = constructStack();
      const props = { ...budgetProps(stack, DEFAULT_STAGE_BUDGET_SETTINGS), budgetName: 'has spaces' };
      expect(() => new StageBudget(stack, 'B', props)).toThrow(
        new Error(
          'StageBudget: budgetName must be 1 to 100 letters, digits, "_", "-" or ".", got "has spaces"',
        ),
      );
    });
  });
});
