/** Application name: the `Application` tag, resource name prefixes and the budget names. */
export const APPLICATION = 'openai-blueprint';

/**
 * Where on-call opens the runbook; every alarm description links to a section of it.
 * Forkers: point this at your copy of docs/runbook.md.
 */
export const RUNBOOK_URL =
  'https://github.com/your-org/openai-production-blueprint/blob/main/docs/runbook.md';

/**
 * Client keys in the example configs. They are public (docs/deploying.md names them), so the CDK app
 * warns when a stage still accepts one: replace the client's keySha256 before deploying.
 */
export const PLACEHOLDER_CLIENT_KEYS = {
  staging: 'example-client-key-staging',
  production: 'example-client-key-production',
} as const;
