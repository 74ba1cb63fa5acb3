import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { deepMerge, stagingConfig } from '../../../../lib/config';
import { StageConfigError, validateStageConfig } from '../../../../lib/config/validate';
import {
  AlarmThresholds,
  checkAlarmThresholds,
  DEFAULT_ALARM_THRESHOLDS,
} from '../../../../lib/constructs/observability/thresholds';
import { SettingsProblems } from '../../../../lib/constructs/settings';
import { GatewayStage } from '../../../../lib/stages/gateway-stage';
import { GATEWAY_IMAGE_DIRECTORY, LAMBDA_ROOT, newApp, withChanges } from '../../synth';

const problemsOf = (thresholds: AlarmThresholds, at = ''): readonly string[] => {
  const problems = new SettingsProblems(at);
  checkAlarmThresholds(thresholds, problems);
  return problems.list;
};

describe('alarm thresholds check', () => {
  it('passes the defaults', () => {
    expect(problemsOf(DEFAULT_ALARM_THRESHOLDS)).toEqual([]);
  });

  it('reports every problem at once, each field by its path', () => {
    expect(
      problemsOf(
        {
          ...DEFAULT_ALARM_THRESHOLDS,
          alb5xxPercent: -1,
          ecsCpuPercent: Number.NaN,
          upstreamLatencyP99Ms: Number.POSITIVE_INFINITY,
          canaryFailedMinutesOf5: 2.5,
        },
        'alarms.',
      ),
    ).toEqual([
      'alarms.alb5xxPercent must be a finite number of at least 0, got -1',
      'alarms.upstreamLatencyP99Ms must be a finite number of at least 0, got Infinity',
      'alarms.ecsCpuPercent must be a finite number of at least 0, got NaN',
      'alarms.canaryFailedMinutesOf5 must be an integer from 1 to 5, got 2.5',
    ]);
  });

  it.each([0, 6])('refuses %s minutes of 5 for the canary', (minutes) => {
    expect(problemsOf({ ...DEFAULT_ALARM_THRESHOLDS, canaryFailedMinutesOf5: minutes })).toEqual([
      `canaryFailedMinutesOf5 must be an integer from 1 to 5, got ${minutes}`,
    ]);
  });

  it.each([0, 2.5, 25])('refuses %s hours in a row for spend reconciliation', (hours) => {
    expect(problemsOf({ ...DEFAULT_ALARM_THRESHOLDS, reconciliationFailedHours: hours })).toEqual([
      `reconciliationFailedHours must be an integer from 1 to 24, got ${hours}`,
    ]);
  });

  it("is what validateStageConfig runs on the stage's alarms group", () => {
    const config = withChanges(stagingConfig, (c) => (c.alarms.cacheMemoryPercent = -5));
    expect(() => validateStageConfig(config)).toThrow(
      new StageConfigError('Staging', [
        'alarms.cacheMemoryPercent must be a finite number of at least 0, got -5',
      ]),
    );
  });
});

describe("a stage's alarms override", () => {
  // The stage's delta goes through deepMerge onto the base: one threshold given, the others kept.
  const config = deepMerge(stagingConfig, { alarms: { ecsCpuPercent: 70 } });

  it('changes that threshold only', () => {
    expect(config.alarms).toEqual({ ...DEFAULT_ALARM_THRESHOLDS, ecsCpuPercent: 70 });
  });

  it("reaches the stage's alarm", () => {
    // Built, not synthesized, and without bundling the handlers: only the alarm's threshold is read.
    const app = newApp({ 'aws:cdk:bundling-stacks': [] });
    const stage = new GatewayStage(app, {
      config,
      gatewayImageDirectory: GATEWAY_IMAGE_DIRECTORY,
      lambdaRoot: LAMBDA_ROOT,
    });
    const alarmFactory = stage.gatewayStack.observability.alarmFactory;
    const threshold = (id: string) =>
      (alarmFactory.alarm(id).node.defaultChild as cloudwatch.CfnAlarm).threshold;
    expect(threshold('EcsCpu')).toBe(70);
    expect(threshold('EcsMemory')).toBe(DEFAULT_ALARM_THRESHOLDS.ecsMemoryPercent);
  });
});
