import { App, IPolicyValidationPlugin, Validations } from 'aws-cdk-lib';
import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';
import {
  AwsSolutionsChecks,
  HIPAASecurityChecks,
  NIST80053R5Checks,
  PCIDSS321Checks,
  ServerlessChecks,
} from 'cdk-nag';

/** The `cdk.json` context key holding the per-pack switches: `"compliance": { "nist80053r5": false }`. */
export const COMPLIANCE_CONTEXT_KEY = 'compliance';

/**
 * Every compliance pack the app runs at synth, each on unless `cdk.json` context switches it off.
 * A finding no construct acknowledges (`Validations.of(construct).acknowledge`) fails synth.
 */
export const COMPLIANCE_PACKS = {
  awsSolutions: { title: 'AwsSolutions (cdk-nag)', plugin: (app: App) => new AwsSolutionsChecks(app) },
  nist80053r5: { title: 'NIST 800-53 R5 (cdk-nag)', plugin: (app: App) => new NIST80053R5Checks(app) },
  hipaaSecurity: { title: 'HIPAA Security (cdk-nag)', plugin: (app: App) => new HIPAASecurityChecks(app) },
  pciDss321: { title: 'PCI DSS 3.2.1 (cdk-nag)', plugin: (app: App) => new PCIDSS321Checks(app) },
  serverless: { title: 'Serverless (cdk-nag)', plugin: (app: App) => new ServerlessChecks(app) },
  controlTower: {
    title: 'Control Tower proactive controls (cfn-guard)',
    plugin: (): IPolicyValidationPlugin => new CfnGuardValidator(),
  },
} as const satisfies Record<string, { title: string; plugin: (app: App) => IPolicyValidationPlugin }>;

export type CompliancePack = keyof typeof COMPLIANCE_PACKS;

/** The packs `app`'s context leaves on: all of them unless `compliance.<pack>` is `false`. */
export function enabledCompliancePacks(app: App): CompliancePack[] {
  const switches = (app.node.tryGetContext(COMPLIANCE_CONTEXT_KEY) ?? {}) as Record<string, unknown>;
  const unknown = Object.keys(switches).filter((key) => !(key in COMPLIANCE_PACKS));
  if (unknown.length > 0) {
    throw new Error(
      `cdk.json context "${COMPLIANCE_CONTEXT_KEY}" names unknown packs: ${unknown.join(', ')} (known: ${Object.keys(COMPLIANCE_PACKS).join(', ')})`,
    );
  }
  return (Object.keys(COMPLIANCE_PACKS) as CompliancePack[]).filter(
    (pack) => switches[pack] !== false && switches[pack] !== 'false',
  );
}

/** Adds every enabled compliance pack to `app` as a validation plugin; returns the packs added. */
export function addComplianceChecks(app: App): CompliancePack[] {
  const packs = enabledCompliancePacks(app);
  Validations.of(app).addPlugins(...packs.map((pack) => COMPLIANCE_PACKS[pack].plugin(app)));
  return packs;
}
