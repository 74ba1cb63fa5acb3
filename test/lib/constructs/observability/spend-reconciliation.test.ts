import { productionConfig, RUNBOOK_URL, stagingConfig } from '../../../../lib/config';
import { DEFAULT_ALARM_THRESHOLDS } from '../../../../lib/constructs/observability/thresholds';
import { METRIC_NAMESPACE } from '../../../../runtime/metric-names';
import {
  alarmProperties,
  metricNames,
  SynthesizedObservability,
  synthObservability,
  TOPIC_ARN,
  widgetMetrics,
} from './fixture';

describe.each([
  ['Staging', stagingConfig],
  ['Production', productionConfig],
] as const)('spend reconciliation of the %s stage', (_name, config) => {
  let s: SynthesizedObservability;
  beforeAll(() => (s = synthObservability(config)));

  it('alarms when every one of the last hourly runs failed (the handler never throws, so its Errors alarm cannot)', () => {
    const hours = DEFAULT_ALARM_THRESHOLDS.reconciliationFailedHours;
    expect(alarmProperties(s, config, 'ReconciliationFailure')).toMatchObject({
      Namespace: METRIC_NAMESPACE,
      MetricName: 'ReconciliationFailure',
      Dimensions: [{ Name: 'Stage', Value: config.name }],
      Statistic: 'Maximum',
      Period: 3600,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: hours,
      DatapointsToAlarm: hours,
      TreatMissingData: 'notBreaching',
      AlarmActions: [TOPIC_ARN],
      OKActions: [TOPIC_ARN],
    });
    expect(alarmProperties(s, config, 'ReconciliationFailure').AlarmDescription).toContain(
      `${RUNBOOK_URL}#reconciliation-failure`,
    );
  });

  it("alarms when OpenAI billed more than the stage's share of its budget beyond what the gateway metered", () => {
    const { monthlyUsd } = config.gateway.budget;
    const threshold = (monthlyUsd * DEFAULT_ALARM_THRESHOLDS.spendDriftPercentOfBudget) / 100;
    const alarm = alarmProperties(s, config, 'SpendDrift');
    expect(alarm).toMatchObject({
      MetricName: 'SpendDriftUsd',
      Dimensions: [{ Name: 'Stage', Value: config.name }],
      Period: 3600,
      Threshold: threshold,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 2,
      DatapointsToAlarm: 2,
    });
    expect(alarm.AlarmDescription).toContain(`more than ${threshold} USD`);
    expect(alarm.AlarmDescription).toContain(`${RUNBOOK_URL}#spend-drift`);
  });

  it("plots OpenAI's figure beside the gateway's metered spend, and the drift", () => {
    expect(metricNames(widgetMetrics(s, 'Spend reconciliation'))).toEqual([
      'ActualSpendUsd',
      'MonthToDateSpendUsd',
      'SpendDriftUsd',
    ]);
  });
});

it('takes its thresholds from the stage config', () => {
  const config = {
    ...stagingConfig,
    alarms: { ...stagingConfig.alarms, reconciliationFailedHours: 6, spendDriftPercentOfBudget: 10 },
  };
  const s = synthObservability(config);
  expect(alarmProperties(s, config, 'ReconciliationFailure')).toMatchObject({
    EvaluationPeriods: 6,
    DatapointsToAlarm: 6,
  });
  expect(alarmProperties(s, config, 'SpendDrift').Threshold).toBe(
    stagingConfig.gateway.budget.monthlyUsd / 10,
  );
});
