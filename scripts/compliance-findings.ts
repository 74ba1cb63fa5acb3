/**
 * Counts the unacknowledged findings of every compliance pack on both stages:
 * `npm run compliance [-- --by-rule] [-- --pipeline]` (`--pipeline`: on the pipeline app of
 * bin/pipeline.ts instead, its stack and the stages it deploys). It synthesizes the app once with every pack on (whatever
 * cdk.json's `compliance` switches say) and reads the validation report, so it prints the numbers
 * even while synth would fail on them. Needs no AWS credentials, no Docker and no network.
 */
import { App } from 'aws-cdk-lib';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addPipeline, addStages, bundledStageSources } from '../lib/apps';
import {
  COMPLIANCE_CONTEXT_KEY,
  COMPLIANCE_PACKS,
  CompliancePack,
  addComplianceChecks,
} from '../lib/compliance';
import { cdkContext } from '../test/lib/synth';

interface LegacyReport {
  readonly pluginReports: readonly {
    readonly summary: { readonly pluginName: string };
    readonly violations: readonly {
      readonly ruleName: string;
      readonly severity?: string;
      readonly violatingResources: readonly unknown[];
    }[];
  }[];
}

/** cdk-nag names its plugins after the pack; cfn-guard after the package. */
const PACK_OF_PLUGIN: Readonly<Record<string, CompliancePack>> = {
  AwsSolutions: 'awsSolutions',
  'NIST.800.53.R5': 'nist80053r5',
  'HIPAA.Security': 'hipaaSecurity',
  'PCI.DSS.321': 'pciDss321',
  Serverless: 'serverless',
  'cdk-validator-cfnguard': 'controlTower',
};

function main(argv: readonly string[]): void {
  const byRule = argv.includes('--by-rule');
  const sources = bundledStageSources();
  const outdir = mkdtempSync(join(tmpdir(), 'compliance-'));
  const allOn = Object.fromEntries(Object.keys(COMPLIANCE_PACKS).map((pack) => [pack, true]));
  const app = new App({
    context: {
      ...cdkContext(),
      [COMPLIANCE_CONTEXT_KEY]: allOn,
      '@aws-cdk/core:validationReportJson': true,
    },
    outdir,
  });
  addComplianceChecks(app);
  if (argv.includes('--pipeline')) addPipeline(app, sources);
  else addStages(app, sources);
  try {
    app.synth();
  } catch {
    // Synth fails on unacknowledged findings; the report is written before it throws.
  }
  const report = JSON.parse(
    readFileSync(join(outdir, 'policy-validation-report.json'), 'utf8'),
  ) as LegacyReport;

  const perPack = new Map<CompliancePack, Map<string, number>>(
    (Object.keys(COMPLIANCE_PACKS) as CompliancePack[]).map((pack) => [pack, new Map()]),
  );
  for (const pluginReport of report.pluginReports) {
    const pack = PACK_OF_PLUGIN[pluginReport.summary.pluginName];
    if (!pack) continue; // aws-cdk-lib's own CloudFormation validation, counted by no pack
    const rules = perPack.get(pack)!;
    for (const violation of pluginReport.violations) {
      const key = `${violation.ruleName} (${violation.severity ?? 'n/a'})`;
      rules.set(key, (rules.get(key) ?? 0) + violation.violatingResources.length);
    }
  }

  const rows: [string, string][] = [];
  let total = 0;
  for (const [pack, rules] of perPack) {
    const findings = [...rules.values()].reduce((a, b) => a + b, 0);
    total += findings;
    rows.push([COMPLIANCE_PACKS[pack].title, String(findings)]);
    if (byRule) {
      for (const [rule, n] of [...rules].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])))
        rows.push([`  ${rule}`, String(n)]);
    }
  }
  rows.push(['Total', String(total)]);
  const width = Math.max(...rows.map(([name]) => name.length));
  console.log(`${'Pack'.padEnd(width)}  Findings`);
  for (const [name, n] of rows) console.log(`${name.padEnd(width)}  ${n.padStart(8)}`);
  console.log(`\nReport: ${join(outdir, 'policy-validation-report.json')}`);
}

main(process.argv.slice(2));
