import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { APPLICATION, productionConfig, RUNBOOK_URL, stagingConfig } from '../../../../lib/config';
import { Observability } from '../../../../lib/constructs/observability/observability';
import { DEFAULT_ALARM_THRESHOLDS } from '../../../../lib/constructs/observability/thresholds';
import { constructStack, REPO_ROOT, resourcesOf } from '../../synth';
import {
  HANDLERS,
  observabilityProps,
  SynthesizedObservability,
  synthObservability,
  TOPIC_ARN,
} from './fixture';

/** The explicit anchors of docs/runbook.md's sections. */
const runbookAnchors = (): string[] =>
  [
    ...readFileSync(join(REPO_ROOT, 'docs', 'runbook.md'), 'utf8').matchAll(/<a id="([a-z0-9-]+)"><\/a>/g),
  ].map((m) => m[1]);

describe.each([
  ['Staging', stagingConfig],
  ['Production', productionConfig],
] as const)('Observability of the %s stage', (_name, config) => {
  let s: SynthesizedObservability;
  beforeAll(() => (s = synthObservability(config)));

  it('sends every alarm, and its recovery, to the on-call topic', () => {
    const alarms = resourcesOf(s, 'AWS::CloudWatch::Alarm');
    expect(alarms.length).toBe(25 + 2 * Object.keys(HANDLERS).length);
    for (const [, alarm] of alarms) {
      expect(alarm.Properties.AlarmActions).toEqual([TOPIC_ARN]);
      expect(alarm.Properties.OKActions).toEqual([TOPIC_ARN]);
    }
  });

  it('describes every alarm with why it matters and a runbook section', () => {
    const anchors = runbookAnchors();
    for (const [, alarm] of resourcesOf(s, 'AWS::CloudWatch::Alarm')) {
      const description = alarm.Properties.AlarmDescription as string;
      expect(description).toContain(' Why it matters: ');
      const link = /Runbook: (\S+)#([a-z0-9-]+)$/.exec(description);
      expect(link?.[1]).toBe(RUNBOOK_URL);
      expect(anchors).toContain(link?.[2]);
      expect(alarm.Properties.AlarmName).toMatch(new RegExp(`^${APPLICATION}-${config.name}-`));
    }
  });

  it('alarms on the required signals', () => {
    const names = resourcesOf(s, 'AWS::CloudWatch::Alarm').map(([, r]) =>
      (r.Properties.AlarmName as string).replace(`${APPLICATION}-${config.name}-`, ''),
    );
    expect(names).toEqual(
      expect.arrayContaining([
        'AlbTargetLatency',
        'Alb5xx',
        'Target5xx',
        'UpstreamLatency',
        'TimeToFirstToken',
        'CanaryFailure',
        'CanaryTimeToFirstToken',
        'CanaryResponsesTimeToFirstToken',
        'Upstream429',
        'SpendThreshold',
        'CacheErrors',
        'StoreFallback',
        'LedgerWriteErrors',
        'LedgerReadErrors',
        'SpendLedgerTableErrors',
        'CacheEvictions',
        'LoadShed',
        'EcsCpu',
        'EcsMemory',
        'UnhealthyTargets',
        'ReconciliationFailure',
        'SpendDrift',
        ...['Canary', 'SpendReconciliation', 'KeyRotation', 'Batch'].flatMap((h) => [
          `${h}Errors`,
          `${h}Throttles`,
        ]),
      ]),
    );
  });

  it('has a dashboard', () => {
    s.template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  });

  it('rolls deployments back on the target 5xx and target response time alarms, in that order', () => {
    expect(s.observability.deploymentAlarms.map((a) => a.node.id)).toEqual(['Target5xx', 'AlbTargetLatency']);
  });
});

describe('Observability settings check', () => {
  it('refuses thresholds that fail their check, before it makes anything', () => {
    const stack = constructStack();
    const props = observabilityProps(stack, stagingConfig);
    expect(
      () =>
        new Observability(stack, 'O', {
          ...props,
          thresholds: { ...DEFAULT_ALARM_THRESHOLDS, ecsCpuPercent: -1, canaryFailedMinutesOf5: 6 },
        }),
    ).toThrow(
      'Observability: 2 problems:\n  - ecsCpuPercent must be a finite number of at least 0, got -1\n  - canaryFailedMinutesOf5 must be an integer from 1 to 5, got 6',
    );
    expect(stack.node.tryFindChild('O')?.node.children).toHaveLength(0);
  });
});
