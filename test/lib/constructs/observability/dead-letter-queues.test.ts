import { RUNBOOK_URL, stagingConfig } from '../../../../lib/config';
import {
  alarmProperties,
  BATCH_DEAD_LETTERS,
  metricNames,
  ON_CALL_DEAD_LETTERS,
  SynthesizedObservability,
  synthObservability,
  widgetMetrics,
} from './fixture';

describe('the dead-letter queues', () => {
  const config = stagingConfig;
  let s: SynthesizedObservability;
  beforeAll(() => (s = synthObservability(config)));

  it.each([
    ['BatchDeadLetters', BATCH_DEAD_LETTERS, 'batch-dead-letters'],
    ['OnCallDeadLetters', ON_CALL_DEAD_LETTERS, 'on-call-dead-letters'],
  ])('alarms %s on any visible message of its queue', (id, queueName, anchor) => {
    const alarm = alarmProperties(s, config, id);
    expect(alarm).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: queueName }],
      Statistic: 'Maximum',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    });
    expect(alarm.AlarmDescription).toContain(`${RUNBOOK_URL}#${anchor}`);
  });

  it('plots both queues', () => {
    expect(metricNames(widgetMetrics(s, 'Dead letters'))).toEqual([
      'ApproximateNumberOfMessagesVisible',
      'ApproximateNumberOfMessagesVisible',
    ]);
  });
});
