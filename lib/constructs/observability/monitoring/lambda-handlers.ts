import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { HouseFunction } from '../../handlers/house-function';
import type { AlarmSpec } from '../alarm-factory';
import { FIVE_MINUTES } from '../metric-factory';
import { graph, Monitoring, MonitoringContext } from './monitoring';

/** What this module reads of a handler (a `HouseFunction` has it): its id names its alarms. */
export type MonitoredHandler = Pick<HouseFunction, 'node' | 'purpose'> & {
  readonly function: lambda.IFunction;
};

export interface LambdaHandlersMonitoringProps {
  /** Lambda handlers to watch for errors and throttles. */
  readonly handlers: readonly MonitoredHandler[];
}

/** Each Lambda handler's errors (its purpose is not being done) and throttles. */
export function lambdaHandlersMonitoring(
  { handlers }: LambdaHandlersMonitoringProps,
  context: MonitoringContext,
): Monitoring {
  return {
    alarms: handlers.flatMap((handler) => handlerAlarms(handler, context)),
    row: [
      graph(
        'Lambda handlers: errors and throttles',
        handlers.flatMap((h) => [h.function.metricErrors(), h.function.metricThrottles()]),
      ),
    ],
  };
}

function handlerAlarms(handler: MonitoredHandler, { thresholds: t }: MonitoringContext): AlarmSpec[] {
  const name = handler.node.id;
  return [
    {
      id: `${name}Errors`,
      metric: handler.function.metricErrors({ period: FIVE_MINUTES, statistic: 'Sum' }),
      threshold: t.lambdaErrorsPer5Min,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      what: `The ${name} Lambda handler failed ${t.lambdaErrorsPer5Min} or more times in 5 minutes.`,
      why: `${capitalize(handler.purpose)} is not being done.`,
      runbook: 'lambda-errors',
    },
    {
      id: `${name}Throttles`,
      metric: handler.function.metricThrottles({ period: FIVE_MINUTES, statistic: 'Sum' }),
      threshold: t.lambdaThrottlesPer5Min,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      what: `The ${name} Lambda handler was throttled ${t.lambdaThrottlesPer5Min} or more times in 5 minutes.`,
      why: `The account's Lambda concurrency is exhausted, so ${handler.purpose} is delayed or skipped.`,
      runbook: 'lambda-throttles',
    },
  ];
}

const capitalize = (text: string): string => text.charAt(0).toUpperCase() + text.slice(1);
