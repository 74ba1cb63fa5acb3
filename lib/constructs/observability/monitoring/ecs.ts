import type * as ecs from 'aws-cdk-lib/aws-ecs';
import { FIVE_MINUTES } from '../metric-factory';
import { graph, Monitoring, MonitoringContext } from './monitoring';

/** The metrics of an ECS service this module reads (a `FargateService` has them). */
export type ServiceMetrics = Pick<ecs.BaseService, 'metricCpuUtilization' | 'metricMemoryUtilization'>;

export interface EcsMonitoringProps {
  /** The gateway's ECS service. */
  readonly service: ServiceMetrics;
}

/** The gateway's ECS service: average CPU and memory of its tasks. */
export function ecsMonitoring(
  { service }: EcsMonitoringProps,
  { thresholds: t }: MonitoringContext,
): Monitoring {
  return {
    alarms: [
      {
        id: 'EcsCpu',
        metric: service.metricCpuUtilization({ period: FIVE_MINUTES }),
        threshold: t.ecsCpuPercent,
        evaluationPeriods: 3,
        what: `Gateway tasks average above ${t.ecsCpuPercent}% CPU for 15 minutes.`,
        why: 'Autoscaling is at its maximum or too slow; latency grows and health checks may fail.',
        runbook: 'ecs-cpu',
      },
      {
        id: 'EcsMemory',
        metric: service.metricMemoryUtilization({ period: FIVE_MINUTES }),
        threshold: t.ecsMemoryPercent,
        evaluationPeriods: 3,
        what: `Gateway tasks average above ${t.ecsMemoryPercent}% memory for 15 minutes.`,
        why: 'A task near its memory limit is killed, dropping every stream it holds.',
        runbook: 'ecs-memory',
      },
    ],
    row: [graph('ECS', [service.metricCpuUtilization(), service.metricMemoryUtilization()])],
  };
}
