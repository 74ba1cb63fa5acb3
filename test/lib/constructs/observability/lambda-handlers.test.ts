import { stagingConfig } from '../../../../lib/config';
import {
  alarmProperties,
  HANDLERS,
  SynthesizedObservability,
  synthObservability,
  widgetMetrics,
} from './fixture';

describe('the Lambda handlers', () => {
  const config = stagingConfig;
  let s: SynthesizedObservability;
  beforeAll(() => (s = synthObservability(config)));

  describe.each(Object.entries(HANDLERS))('%s', (id, purpose) => {
    it('alarms on any error, saying its purpose is not being done', () => {
      const alarm = alarmProperties(s, config, `${id}Errors`);
      expect(alarm).toMatchObject({
        Namespace: 'AWS/Lambda',
        MetricName: 'Errors',
        Dimensions: [{ Name: 'FunctionName', Value: `${id}-function` }],
        Statistic: 'Sum',
        Threshold: config.alarms.lambdaErrorsPer5Min,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      });
      expect(alarm.AlarmDescription).toContain(
        ` Why it matters: ${purpose.charAt(0).toUpperCase()}${purpose.slice(1)} is not being done.`,
      );
    });

    it('alarms on any throttle, saying its purpose is delayed', () => {
      const alarm = alarmProperties(s, config, `${id}Throttles`);
      expect(alarm).toMatchObject({
        MetricName: 'Throttles',
        Dimensions: [{ Name: 'FunctionName', Value: `${id}-function` }],
        Threshold: config.alarms.lambdaThrottlesPer5Min,
      });
      expect(alarm.AlarmDescription).toContain(`so ${purpose} is delayed or skipped.`);
    });
  });

  it("plots every handler's errors and throttles", () => {
    expect(widgetMetrics(s, 'Lambda handlers')).toHaveLength(2 * Object.keys(HANDLERS).length);
  });
});
