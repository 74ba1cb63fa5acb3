import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type { GatewayConfig } from '../../../../runtime/gateway-config';
import { GatewayMetric } from '../../../../runtime/metric-names';
import { combined, FIVE_MINUTES } from '../metric-factory';
import { graph, Monitoring, MonitoringContext } from './monitoring';

/** The operations the gateway and reconciliation call on the spend ledger: the `Operation` dimension of its errors. */
const SPEND_LEDGER_OPERATIONS = [dynamodb.Operation.UPDATE_ITEM, dynamodb.Operation.QUERY] as const;

export interface SpendLedgerMonitoringProps {
  /** The stage's spend ledger table, watched for DynamoDB's own errors and throttling. */
  readonly table: dynamodb.ITable;
  /** The stage's OpenAI budget, from the validated gateway config: the spend alarm fires at its `notifyAtPercent`. */
  readonly budget: GatewayConfig['budget'];
}

/** Spend: month-to-date spend against the stage budget, and the spend ledger's writes, reads and table. */
export function spendLedgerMonitoring(
  { table, budget }: SpendLedgerMonitoringProps,
  { thresholds: t, metrics }: MonitoringContext,
): Monitoring {
  const { monthlyUsd, notifyAtPercent } = budget;
  const spendThreshold = (monthlyUsd * notifyAtPercent) / 100;
  const tableErrors = spendLedgerTableErrors(table);
  return {
    alarms: [
      {
        id: 'SpendThreshold',
        metric: metrics.stageMetric(GatewayMetric.monthToDateSpendUsd, 'Maximum'),
        threshold: spendThreshold,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        what: `Month-to-date OpenAI spend reached ${spendThreshold} USD, ${notifyAtPercent}% of the ${monthlyUsd} USD stage budget.`,
        why: 'At 100% the gateway refuses every request until the month ends or the budget is raised.',
        runbook: 'spend-threshold',
      },
      {
        id: 'LedgerWriteErrors',
        metric: metrics.stageMetric(GatewayMetric.ledgerWriteErrors, 'Sum'),
        threshold: t.ledgerWriteErrorsPer5Min,
        evaluationPeriods: 3,
        datapointsToAlarm: 3,
        what: `Spend ledger (DynamoDB) writes failed more than ${t.ledgerWriteErrorsPer5Min} times in each of three 5-minute periods.`,
        why: 'The spend not yet written lives only in task memory: a task that stops now loses it, and a Redis rebuilt from the ledger would undercount the month.',
        runbook: 'ledger-write-errors',
      },
      {
        id: 'LedgerReadErrors',
        metric: metrics.stageMetric(GatewayMetric.ledgerReadErrors, 'Sum'),
        threshold: t.ledgerReadErrorsPer5Min,
        what: `Spend ledger (DynamoDB) reads failed more than ${t.ledgerReadErrorsPer5Min} times in 5 minutes.`,
        why: 'The ledger is read only when Redis is empty or out: an empty Redis cannot be seeded, so spend admissions fail, and the fallback refuses scopes it has no spend for.',
        runbook: 'ledger-read-errors',
      },
      {
        id: 'SpendLedgerTableErrors',
        metric: tableErrors,
        threshold: t.spendLedgerTableErrorsPer5Min,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 3,
        datapointsToAlarm: 2,
        what: `The spend ledger table had ${t.spendLedgerTableErrorsPer5Min} or more DynamoDB system errors or throttled requests in 5 minutes, in 2 of 3 periods.`,
        why: 'DynamoDB itself is failing or throttling the ledger: writes queue in task memory and reads of an empty Redis fail.',
        runbook: 'spend-ledger-table',
      },
    ],
    row: [
      new cloudwatch.GraphWidget({
        title: 'Month-to-date spend (USD)',
        left: [metrics.stageMetric(GatewayMetric.monthToDateSpendUsd, 'Maximum', Duration.hours(1))],
        leftAnnotations: [
          { value: monthlyUsd, label: 'Monthly budget', color: cloudwatch.Color.RED },
          { value: spendThreshold, label: 'Notify at', color: cloudwatch.Color.ORANGE },
        ],
        width: 8,
        height: 6,
      }),
      graph('Spend ledger errors', [
        metrics.stageMetric(GatewayMetric.ledgerWriteErrors, 'Sum'),
        metrics.stageMetric(GatewayMetric.ledgerReadErrors, 'Sum'),
        tableErrors,
      ]),
    ],
  };
}

/** SystemErrors plus ThrottledRequests of the spend ledger table, summed over the operations it is called with. */
function spendLedgerTableErrors(table: dynamodb.ITable): cloudwatch.MathExpression {
  const metrics: Record<string, cloudwatch.IMetric> = {};
  SPEND_LEDGER_OPERATIONS.forEach((operation, i) => {
    const dimensionsMap = { TableName: table.tableName, Operation: operation };
    for (const [id, metricName] of [
      [`system${i}`, 'SystemErrors'],
      [`throttled${i}`, 'ThrottledRequests'],
    ] as const) {
      metrics[id] = new cloudwatch.Metric({
        namespace: 'AWS/DynamoDB',
        metricName,
        dimensionsMap,
        statistic: 'Sum',
        period: FIVE_MINUTES,
      });
    }
  });
  return combined('SUM', metrics, 'Spend ledger system errors + throttled requests');
}
