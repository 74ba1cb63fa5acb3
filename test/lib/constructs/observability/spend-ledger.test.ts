import { Match } from 'aws-cdk-lib/assertions';
import { APPLICATION, productionConfig, stagingConfig } from '../../../../lib/config';
import { METRIC_NAMESPACE } from '../../../../runtime/metric-names';
import {
  alarmProperties,
  metricNames,
  SPEND_LEDGER_TABLE,
  SynthesizedObservability,
  synthObservability,
  widgetMetrics,
} from './fixture';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Json = Record<string, any>;

describe.each([
  ['Staging', stagingConfig],
  ['Production', productionConfig],
] as const)('the spend ledger of the %s stage', (_name, config) => {
  let s: SynthesizedObservability;
  beforeAll(() => (s = synthObservability(config)));

  it('alarms when month-to-date spend reaches the notification threshold of the stage budget', () => {
    const { monthlyUsd, notifyAtPercent } = config.gateway.budget;
    s.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: METRIC_NAMESPACE,
      MetricName: 'MonthToDateSpendUsd',
      Dimensions: [{ Name: 'Stage', Value: config.name }],
      Statistic: 'Maximum',
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Threshold: (monthlyUsd * notifyAtPercent) / 100,
    });
  });

  it.each([
    // [alarm, metric, evaluation periods, datapoints to alarm]
    ['LedgerWriteErrors', 'LedgerWriteErrors', 3, 3],
    ['LedgerReadErrors', 'LedgerReadErrors', 1, undefined],
  ])('alarms %s on any %s from the [Stage] EMF dimension set', (alarm, metricName, periods, datapoints) => {
    s.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: `${APPLICATION}-${config.name}-${alarm}`,
      Namespace: METRIC_NAMESPACE,
      MetricName: metricName,
      Dimensions: [{ Name: 'Stage', Value: config.name }],
      Statistic: 'Sum',
      Period: 300,
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 0,
      EvaluationPeriods: periods,
      DatapointsToAlarm: datapoints ?? Match.absent(),
      TreatMissingData: 'notBreaching',
    });
  });

  it("alarms on the spend ledger table's DynamoDB system errors and throttled requests", () => {
    const alarm = alarmProperties(s, config, 'SpendLedgerTableErrors');
    expect(alarm).toMatchObject({
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Threshold: 1,
      EvaluationPeriods: 3,
      DatapointsToAlarm: 2,
    });
    const queries = alarm.Metrics as Json[];
    const stats = queries.filter((q) => q.MetricStat).map((q) => q.MetricStat);
    expect(
      stats.map((st) => [st.Metric.Namespace, st.Metric.MetricName, st.Metric.Dimensions, st.Stat]),
    ).toEqual(
      expect.arrayContaining(
        ['UpdateItem', 'Query'].flatMap((operation) =>
          ['SystemErrors', 'ThrottledRequests'].map((metricName) => [
            'AWS/DynamoDB',
            metricName,
            [
              { Name: 'Operation', Value: operation },
              { Name: 'TableName', Value: SPEND_LEDGER_TABLE },
            ],
            'Sum',
          ]),
        ),
      ),
    );
    expect(stats).toHaveLength(4);
    expect(queries.find((q) => q.Expression)?.Expression).toMatch(/^SUM\(\[(\w+, ){3}\w+\]\)$/);
  });

  it('plots the spend ledger errors on the dashboard', () => {
    expect(metricNames(widgetMetrics(s, 'Spend ledger errors'))).toEqual(
      expect.arrayContaining(['LedgerWriteErrors', 'LedgerReadErrors']),
    );
  });
});
