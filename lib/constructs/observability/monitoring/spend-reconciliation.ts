import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type { GatewayConfig } from '../../../../runtime/gateway-config';
import { GatewayMetric, ReconciliationMetric } from '../../../../runtime/metric-names';
import { graph, Monitoring, MonitoringContext } from './monitoring';

/** Reconciliation runs hourly: its metrics have one datapoint an hour. */
const ONE_HOUR = Duration.hours(1);

export interface SpendReconciliationMonitoringProps {
  /** The stage's OpenAI budget, from the validated gateway config: the drift alarm is a share of it. */
  readonly budget: GatewayConfig['budget'];
}

/**
 * The hourly comparison of what the gateway metered with what OpenAI billed. The handler never throws
 * (a failed run is `ReconciliationFailure` = 1, so the schedule does not crash-loop), so its Errors
 * alarm cannot see a run that failed: this module's alarms do.
 */
export function spendReconciliationMonitoring(
  { budget }: SpendReconciliationMonitoringProps,
  { thresholds: t, metrics }: MonitoringContext,
): Monitoring {
  const hours = t.reconciliationFailedHours;
  const driftUsd = (budget.monthlyUsd * t.spendDriftPercentOfBudget) / 100;
  return {
    alarms: [
      {
        id: 'ReconciliationFailure',
        metric: metrics.stageMetric(ReconciliationMetric.failure, 'Maximum', ONE_HOUR),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: hours,
        datapointsToAlarm: hours,
        what: `Spend reconciliation failed in each of the last ${hours} hourly runs: it could not read OpenAI's costs or raise the spend ledger.`,
        why: "The gateway's spend is no longer checked against OpenAI's bill, and an empty Redis is seeded from a ledger that no longer holds what OpenAI billed.",
        runbook: 'reconciliation-failure',
      },
      {
        id: 'SpendDrift',
        metric: metrics.stageMetric(ReconciliationMetric.spendDriftUsd, 'Maximum', ONE_HOUR),
        threshold: driftUsd,
        evaluationPeriods: 2,
        datapointsToAlarm: 2,
        what: `OpenAI billed the stage's project more than ${driftUsd} USD (${t.spendDriftPercentOfBudget}% of the ${budget.monthlyUsd} USD budget) beyond what the gateway metered this month, two hours running.`,
        why: 'Spend the budgets do not see: a caller holding the project key outside the gateway, another app in the same OpenAI project, or a price in gateway.models below what OpenAI charges.',
        runbook: 'spend-drift',
      },
    ],
    row: [
      graph(
        'Spend reconciliation: OpenAI billed vs the gateway metered (USD)',
        [
          metrics.stageMetric(ReconciliationMetric.actualSpendUsd, 'Maximum', ONE_HOUR),
          metrics.stageMetric(GatewayMetric.monthToDateSpendUsd, 'Maximum', ONE_HOUR),
        ],
        [metrics.stageMetric(ReconciliationMetric.spendDriftUsd, 'Maximum', ONE_HOUR)],
      ),
    ],
  };
}
