import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';

/** What an alarm says to on-call. */
export interface AlarmText {
  /** What crossed which line. */
  readonly what: string;
  /** Why it matters to callers or to the bill. */
  readonly why: string;
  /** The explicit anchor of the alarm's section in docs/runbook.md (`<a id="...">`), e.g. `alb-5xx`. */
  readonly runbook: string;
}

/** One alarm, as a monitoring module's table lists it. */
export interface AlarmSpec extends AlarmText {
  /** The alarm's construct id and the last part of its name. */
  readonly id: string;
  readonly metric: cloudwatch.IMetric;
  readonly threshold: number;
  /** @default GREATER_THAN_THRESHOLD */
  readonly comparisonOperator?: cloudwatch.ComparisonOperator;
  /** @default 1 */
  readonly evaluationPeriods?: number;
  /** @default every evaluation period */
  readonly datapointsToAlarm?: number;
  /** @default NOT_BREACHING */
  readonly treatMissingData?: cloudwatch.TreatMissingData;
}

export interface AlarmFactoryProps {
  /** Stage name, the middle part of every alarm name. */
  readonly stage: string;
  /** Prefix of every alarm name, e.g. the application name. */
  readonly alarmNamePrefix: string;
  /** URL of docs/runbook.md; alarm descriptions link to its sections. */
  readonly runbookUrl: string;
  /** The on-call topic every alarm notifies (on alarm and on recovery). */
  readonly topic: sns.ITopic;
}

/** An alarm the factory made, with the spec it was made from. */
export interface MadeAlarm {
  readonly spec: AlarmSpec;
  readonly alarm: cloudwatch.Alarm;
}

/**
 * Makes the stage's alarms in `scope`, one per spec, each named `<prefix>-<stage>-<id>`, described
 * (what, why it matters, runbook link) and notifying the on-call topic when it fires and when it
 * recovers, and keeps the list of them.
 */
export class AlarmFactory {
  private readonly made: MadeAlarm[] = [];
  private readonly action: actions.SnsAction;

  /** @param scope where the alarms go: their construct path, so their logical IDs, starts there */
  constructor(
    private readonly scope: Construct,
    private readonly props: AlarmFactoryProps,
  ) {
    this.action = new actions.SnsAction(props.topic);
  }

  addAlarm(spec: AlarmSpec): cloudwatch.Alarm {
    const alarm = new cloudwatch.Alarm(this.scope, spec.id, {
      alarmName: `${this.props.alarmNamePrefix}-${this.props.stage}-${spec.id}`,
      alarmDescription: describeAlarm(spec, this.props.runbookUrl),
      metric: spec.metric,
      threshold: spec.threshold,
      comparisonOperator: spec.comparisonOperator ?? cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: spec.evaluationPeriods ?? 1,
      datapointsToAlarm: spec.datapointsToAlarm,
      treatMissingData: spec.treatMissingData ?? cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(this.action);
    alarm.addOkAction(this.action);
    this.made.push({ spec, alarm });
    return alarm;
  }

  /** Every alarm made, in the order made. */
  get alarms(): cloudwatch.Alarm[] {
    return this.made.map((m) => m.alarm);
  }

  /** Every alarm made with its spec (what a test reads the runbook anchors from). */
  get madeAlarms(): readonly MadeAlarm[] {
    return this.made;
  }

  /** The alarm made from the spec `id`. */
  alarm(id: string): cloudwatch.Alarm {
    const found = this.made.find((m) => m.spec.id === id);
    if (!found) throw new Error(`AlarmFactory: no alarm ${id}`);
    return found.alarm;
  }
}

/** The alarm description: what fired, why it matters, which runbook section to open. */
export function describeAlarm(text: AlarmText, runbookUrl: string): string {
  return `${text.what} Why it matters: ${text.why} Runbook: ${runbookUrl}#${text.runbook}`;
}
