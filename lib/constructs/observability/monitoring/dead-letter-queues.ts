import * as sqs from 'aws-cdk-lib/aws-sqs';
import { FIVE_MINUTES } from '../metric-factory';
import { graph, Monitoring } from './monitoring';

export interface DeadLetterQueuesMonitoringProps {
  /** Dead-letter queue of the batch handler: an upload or poll that failed after Lambda's retries. */
  readonly batch: sqs.IQueue;
  /** Dead-letter queue of the on-call subscriptions: a notification no endpoint took. */
  readonly onCall: sqs.IQueue;
}

/** The dead-letter queues: any message in one is work or a notification that nothing retries. */
export function deadLetterQueuesMonitoring({ batch, onCall }: DeadLetterQueuesMonitoringProps): Monitoring {
  const visible = (queue: sqs.IQueue) =>
    queue.metricApproximateNumberOfMessagesVisible({ period: FIVE_MINUTES, statistic: 'Maximum' });
  return {
    alarms: [
      {
        id: 'BatchDeadLetters',
        metric: visible(batch),
        threshold: 0,
        what: 'The batch dead-letter queue holds a message: a batch invocation still failed after Lambda retried it twice.',
        why: 'An uploaded batch file was not submitted to OpenAI (or a poll failed), and nothing retries it: the caller waits for output that will not come.',
        runbook: 'batch-dead-letters',
      },
      {
        id: 'OnCallDeadLetters',
        metric: visible(onCall),
        threshold: 0,
        what: 'The on-call dead-letter queue holds a message: SNS could not deliver a notification to a subscription (pager or email).',
        why: 'An alarm or budget notification did not reach on-call through that channel: a page may have been missed.',
        runbook: 'on-call-dead-letters',
      },
    ],
    row: [graph('Dead letters: messages visible', [visible(batch), visible(onCall)])],
  };
}
