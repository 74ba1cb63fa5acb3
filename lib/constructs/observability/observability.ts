import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { GatewayConfig } from '../../../runtime/gateway-config';
import { SettingsProblems } from '../settings';
import { AlarmFactory } from './alarm-factory';
import { FIVE_MINUTES, ProjectMetricFactory } from './metric-factory';
import { cacheMonitoring } from './monitoring/cache';
import { canaryMonitoring } from './monitoring/canary';
import { deadLetterQueuesMonitoring } from './monitoring/dead-letter-queues';
import { ecsMonitoring, ServiceMetrics } from './monitoring/ecs';
import { gatewayMonitoring } from './monitoring/gateway';
import { lambdaHandlersMonitoring, MonitoredHandler } from './monitoring/lambda-handlers';
import { DEPLOYMENT_ALARM_IDS, loadBalancerMonitoring } from './monitoring/load-balancer';
import { Monitoring, MonitoringContext } from './monitoring/monitoring';
import { spendLedgerMonitoring } from './monitoring/spend-ledger';
import { spendReconciliationMonitoring } from './monitoring/spend-reconciliation';
import { AlarmThresholds, checkAlarmThresholds } from './thresholds';

export interface ObservabilityProps {
  /** Stage name: the `Stage` dimension of the custom metrics, and the alarm name prefix. */
  readonly stage: string;
  /** Prefix of every alarm name, e.g. the application name. */
  readonly alarmNamePrefix: string;
  /** URL of docs/runbook.md; alarm descriptions link to its sections. */
  readonly runbookUrl: string;
  /** The on-call topic every alarm notifies (on alarm and on recovery). */
  readonly topic: sns.ITopic;
  /** The stage's alarm thresholds (`StageConfig.alarms`). */
  readonly thresholds: AlarmThresholds;
  readonly loadBalancer: elbv2.IApplicationLoadBalancer;
  readonly targetGroup: elbv2.IApplicationTargetGroup;
  readonly service: ServiceMetrics;
  /** `CacheClusterId`s of the cache nodes. */
  readonly cacheClusterIds: readonly string[];
  /** The stage's spend ledger table, watched for DynamoDB's own errors and throttling. */
  readonly spendLedgerTable: dynamodb.ITable;
  /** The stage's OpenAI budget, from the validated gateway config. */
  readonly budget: GatewayConfig['budget'];
  /** Lambda handlers to watch for errors and throttles. */
  readonly handlers: readonly MonitoredHandler[];
  /** Dead-letter queue of the batch handler: an upload or poll that failed after Lambda's retries. */
  readonly batchDeadLetterQueue: sqs.IQueue;
  /** Dead-letter queue of the on-call subscriptions: a notification no endpoint took. */
  readonly onCallDeadLetterQueue: sqs.IQueue;
  /**
   * The gateway's client ids (the `Client` dimension): the dashboard plots each one's prompt-cache
   * hit rate.
   * @default none (the stage-wide rate only)
   */
  readonly clientIds?: readonly string[];
}

/**
 * The stage's alarms and dashboard, one monitoring module per resource (`monitoring/`), each giving
 * its alarms to the alarm factory and its row to the dashboard. Every alarm notifies the on-call
 * topic when it fires and when it recovers, and its description says what fired, why it matters and
 * which runbook section to open.
 */
export class Observability extends Construct {
  /** Every alarm of the stage. */
  readonly alarms: readonly cloudwatch.Alarm[];
  /**
   * The alarms a bad gateway deployment trips: target 5xx rate and target response time. The gateway
   * service rolls a deployment back when one fires during it (`GatewayService.rollBackOnAlarms`), and
   * AppConfig a config version (`GatewayConfigStore`'s rollback monitors).
   */
  readonly deploymentAlarms: readonly cloudwatch.Alarm[];
  readonly dashboard: cloudwatch.Dashboard;
  /** The factory that made the alarms, with the spec of each. */
  readonly alarmFactory: AlarmFactory;

  constructor(scope: Construct, id: string, props: ObservabilityProps) {
    super(scope, id);
    const problems = new SettingsProblems();
    checkAlarmThresholds(props.thresholds, problems);
    problems.throwIfAny('Observability');
    const context: MonitoringContext = {
      thresholds: props.thresholds,
      metrics: new ProjectMetricFactory(props.stage),
    };
    const modules: Monitoring[] = [
      loadBalancerMonitoring(props, context),
      gatewayMonitoring(
        {
          requestCount: props.loadBalancer.metrics.requestCount({ period: FIVE_MINUTES }),
          clientIds: props.clientIds,
        },
        context,
      ),
      canaryMonitoring(context),
      cacheMonitoring(props, context),
      spendLedgerMonitoring({ table: props.spendLedgerTable, budget: props.budget }, context),
      spendReconciliationMonitoring({ budget: props.budget }, context),
      ecsMonitoring(props, context),
      lambdaHandlersMonitoring(props, context),
      deadLetterQueuesMonitoring({ batch: props.batchDeadLetterQueue, onCall: props.onCallDeadLetterQueue }),
    ];
    this.alarmFactory = new AlarmFactory(this, props);
    for (const spec of modules.flatMap((m) => m.alarms)) this.alarmFactory.addAlarm(spec);
    this.alarms = this.alarmFactory.alarms;
    this.deploymentAlarms = DEPLOYMENT_ALARM_IDS.map((alarmId) => this.alarmFactory.alarm(alarmId));
    this.dashboard = this.buildDashboard(props, modules);
  }

  /** A header, every alarm's state, then one row per module. */
  private buildDashboard(props: ObservabilityProps, modules: readonly Monitoring[]): cloudwatch.Dashboard {
    const dashboard = new cloudwatch.Dashboard(this, 'Dashboard', { defaultInterval: Duration.hours(6) });
    dashboard.addWidgets(
      new cloudwatch.TextWidget({
        markdown: `# ${props.stage} OpenAI gateway\nAlarms link to the [runbook](${props.runbookUrl}).`,
        width: 24,
        height: 2,
      }),
    );
    dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: [...this.alarms], width: 24, height: 4 }),
    );
    for (const { row } of modules) dashboard.addWidgets(...row);
    return dashboard;
  }
}
