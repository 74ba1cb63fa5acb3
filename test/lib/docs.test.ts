import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { productionConfig, stagingConfig } from '../../lib/config';
import { Observability } from '../../lib/constructs/observability/observability';
import { observabilityProps } from './constructs/observability/fixture';
import { constructStack, REPO_ROOT } from './synth';

const read = (file: string): string => readFileSync(join(REPO_ROOT, 'docs', file), 'utf8');

/** Dotted paths of a config's fields, not descending into the gateway document (documented by its own table). */
function fieldPaths(value: unknown, prefix = ''): string[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || prefix === 'gateway')
    return [prefix];
  return Object.entries(value).flatMap(([key, child]) =>
    fieldPaths(child, prefix ? `${prefix}.${key}` : key),
  );
}

/** Each alarm of a stage's Observability (built, not synthesized) with the runbook anchor its spec names. */
function alarmAnchors(): [string, string][] {
  const stack = constructStack();
  const observability = new Observability(
    stack,
    'Observability',
    observabilityProps(stack, productionConfig),
  );
  return observability.alarmFactory.madeAlarms.map(({ spec }) => [spec.id, spec.runbook]);
}

describe('docs/runbook.md', () => {
  const runbook = read('runbook.md');

  it.each(alarmAnchors())('has the section the alarm %s links to (#%s)', (_id, anchor) => {
    expect(runbook).toMatch(new RegExp(`<a id="${anchor}"></a>\\n\\n?## `));
  });

  // Not an alarm: the AWS Budgets notification (StageBudget) on the same topic.
  it('has the section of the AWS budget notification (#aws-budget)', () => {
    expect(runbook).toMatch(/<a id="aws-budget"><\/a>\n\n?## /);
  });
});

describe('docs/deploying.md', () => {
  const deploying = read('deploying.md');
  const fields = [
    ...new Set([...fieldPaths(stagingConfig), ...fieldPaths(productionConfig), 'openaiBaseUrl']),
  ];

  it.each(fields)('documents the config field %s', (field) => {
    expect(deploying).toContain(`\`${field}\``);
  });

  it('gives the exact put-secret-value commands and JSON shapes', () => {
    expect(deploying).toContain('aws secretsmanager put-secret-value --secret-id "$(out ApiKeySecretArn)"');
    expect(deploying).toContain('aws secretsmanager put-secret-value --secret-id "$(out AdminKeySecretArn)"');
    expect(deploying).toContain('{"apiKey": "sk-proj-...", "serviceAccountId": "user-..."}');
    expect(deploying).toContain('{"adminKey": "sk-admin-..."}');
  });
});
