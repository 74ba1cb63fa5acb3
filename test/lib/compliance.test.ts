import { App, RemovalPolicy, Stack, Stage } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  COMPLIANCE_CONTEXT_KEY,
  COMPLIANCE_PACKS,
  addComplianceChecks,
  enabledCompliancePacks,
} from '../../lib/compliance';
import { acknowledge, controlTower, nag } from '../../lib/acknowledgments';
import { cdkContext } from './synth';

const env = { account: '111111111111', region: 'us-east-1' };

/** An App with only the given packs' switches, and one stage holding a log group without a KMS key. */
function appWithPlainLogGroup(switches: Record<string, boolean>, acknowledged?: { ids: string[] }): App {
  const app = new App({
    context: { [COMPLIANCE_CONTEXT_KEY]: switches },
    outdir: mkdtempSync(join(tmpdir(), 'cdk-compliance-')),
  });
  addComplianceChecks(app);
  const stack = new Stack(new Stage(app, 'Staging', { env }), 'Gateway');
  const logGroup = new logs.LogGroup(stack, 'Plain', {
    retention: logs.RetentionDays.ONE_YEAR,
    removalPolicy: RemovalPolicy.DESTROY,
  });
  if (acknowledged)
    acknowledge(logGroup, { ids: acknowledged.ids, reason: 'a test log group, never deployed' });
  return app;
}

const onlyOn = (pack: keyof typeof COMPLIANCE_PACKS): Record<string, boolean> =>
  Object.fromEntries(Object.keys(COMPLIANCE_PACKS).map((key) => [key, key === pack]));

describe('addComplianceChecks', () => {
  it('turns every pack on by default, as cdk.json leaves them', () => {
    const app = new App({ context: cdkContext() });
    expect(enabledCompliancePacks(app)).toEqual([
      'awsSolutions',
      'nist80053r5',
      'hipaaSecurity',
      'pciDss321',
      'serverless',
      'controlTower',
    ]);
  });

  it('leaves out a pack switched off in context', () => {
    const app = new App({
      context: { [COMPLIANCE_CONTEXT_KEY]: { nist80053r5: false, controlTower: 'false' } },
    });
    expect(addComplianceChecks(app)).toEqual(['awsSolutions', 'hipaaSecurity', 'pciDss321', 'serverless']);
  });

  it('refuses a switch for a pack it does not know', () => {
    const app = new App({ context: { [COMPLIANCE_CONTEXT_KEY]: { nist: false } } });
    expect(() => addComplianceChecks(app)).toThrow(/names unknown packs: nist/);
  });

  it('fails synth on a NIST finding, and not once the NIST pack is switched off', () => {
    expect(() => appWithPlainLogGroup(onlyOn('nist80053r5')).synth()).toThrow(
      /NIST\.800\.53\.R5-CloudWatchLogGroupEncrypted/,
    );
    expect(() =>
      appWithPlainLogGroup({ ...onlyOn('nist80053r5'), nist80053r5: false }).synth(),
    ).not.toThrow();
  });

  it('fails synth on a Control Tower finding until it is acknowledged on the construct', () => {
    expect(() => appWithPlainLogGroup(onlyOn('controlTower')).synth()).toThrow(
      /cloudwatch_log_group_encrypted_check/,
    );
    expect(() =>
      appWithPlainLogGroup(onlyOn('controlTower'), {
        ids: [controlTower('cloudwatch_log_group_encrypted_check')],
      }).synth(),
    ).not.toThrow();
  });

  it('names cdk-nag rule ids per pack', () => {
    expect(nag('LambdaDLQ', 'nist', 'hipaa', 'serverless')).toEqual([
      'NIST.800.53.R5-LambdaDLQ',
      'HIPAA.Security-LambdaDLQ',
      'Serverless-LambdaDLQ',
    ]);
  });
});
