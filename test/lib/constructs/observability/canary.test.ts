import { productionConfig, RUNBOOK_URL, stagingConfig } from '../../../../lib/config';
import { DEFAULT_ALARM_THRESHOLDS } from '../../../../lib/constructs/observability/thresholds';
import { METRIC_NAMESPACE } from '../../../../runtime/metric-names';
import { alarmProperties, SynthesizedObservability, synthObservability, TOPIC_ARN } from './fixture';

describe.each([
  ['Staging', stagingConfig],
  ['Production', productionConfig],
] as const)('the canary of the %s stage', (_name, config) => {
  let s: SynthesizedObservability;
  beforeAll(() => (s = synthObservability(config)));

  it("alarms on the canary's Responses time to first token beside its chat one, paging on-call", () => {
    for (const [metricName, threshold] of [
      ['CanaryTimeToFirstToken', DEFAULT_ALARM_THRESHOLDS.canaryTimeToFirstTokenMs],
      ['CanaryResponsesTimeToFirstToken', DEFAULT_ALARM_THRESHOLDS.canaryResponsesTimeToFirstTokenMs],
    ] as const) {
      s.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: METRIC_NAMESPACE,
        MetricName: metricName,
        Dimensions: [{ Name: 'Stage', Value: config.name }],
        ExtendedStatistic: 'p90',
        Threshold: threshold,
        EvaluationPeriods: 3,
        DatapointsToAlarm: 2,
        AlarmActions: [TOPIC_ARN],
        OKActions: [TOPIC_ARN],
      });
    }
    expect(alarmProperties(s, config, 'CanaryResponsesTimeToFirstToken').AlarmDescription).toContain(
      `${RUNBOOK_URL}#canary-responses-time-to-first-token`,
    );
  });

  it('counts a silent canary as a failing one', () => {
    s.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'CanarySuccess',
      TreatMissingData: 'breaching',
      ComparisonOperator: 'LessThanThreshold',
      Threshold: 1,
    });
  });

  it(`alarms when the canary failed in ${config.alarms.canaryFailedMinutesOf5} of the last 5 minutes`, () => {
    expect(alarmProperties(s, config, 'CanaryFailure')).toMatchObject({
      Period: 60,
      EvaluationPeriods: 5,
      DatapointsToAlarm: config.alarms.canaryFailedMinutesOf5,
    });
  });
});
