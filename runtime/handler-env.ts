/**
 * Environment variables of the Lambda handlers. The infrastructure sets them; `npm run invoke` reads
 * OPENAI_API_KEY / OPENAI_ADMIN_KEY from the environment instead of the secret ARNs for local runs.
 */
export const HandlerEnv = {
  /** Stage name, the `Stage` metric dimension. */
  stage: 'STAGE',
  /** Upstream base URL including `/v1`. @default 'https://api.openai.com/v1' */
  openaiBaseUrl: 'OPENAI_BASE_URL',
  /** Secret with the project API key (`{"apiKey": ..., "serviceAccountId": ...}` or a plain key). */
  openaiApiKeySecretArn: 'OPENAI_API_KEY_SECRET_ARN',
  /** Secret with the organization admin key (`{"adminKey": ...}` or a plain key). */
  openaiAdminKeySecretArn: 'OPENAI_ADMIN_KEY_SECRET_ARN',
  /** Local runs only: the project key in place of the secret. */
  openaiApiKey: 'OPENAI_API_KEY',
  /** Local runs only: the admin key in place of the secret. */
  openaiAdminKey: 'OPENAI_ADMIN_KEY',
  /** `OpenAI-Organization` header and the organization the admin API acts on. */
  openaiOrganization: 'OPENAI_ORGANIZATION',
  /** `OpenAI-Project` header; the project whose costs are read and whose keys are rotated. */
  openaiProject: 'OPENAI_PROJECT',
  /** Canary: the real model name it calls. */
  canaryModel: 'CANARY_MODEL',
  /** Canary: time allowed for the whole call, ms. @default 10000 */
  canaryTimeoutMs: 'CANARY_TIMEOUT_MS',
  /** Batch: bucket with `input/` and `output/` prefixes. */
  batchBucket: 'BATCH_BUCKET',
  /** Batch: DynamoDB table of batch jobs (partition key `pk`, string). */
  batchJobsTable: 'BATCH_JOBS_TABLE',
  /** Spend reconciliation: the stage's spend ledger table (see GatewayEnv.spendLedgerTable), raised to OpenAI's billed cost. */
  spendLedgerTable: 'SPEND_LEDGER_TABLE',
  /** Batch: the gateway config document, for the same models and limits as the gateway. */
  gatewayConfigJson: 'GATEWAY_CONFIG_JSON',
} as const;

/** Handler folders under `lambda/`; each has `index.ts` exporting `handler`. */
export const HANDLER_NAMES = ['canary', 'spend-reconciliation', 'key-rotation', 'batch'] as const;
export type HandlerName = (typeof HANDLER_NAMES)[number];
