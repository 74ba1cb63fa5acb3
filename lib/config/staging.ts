import { ClientDocument, StageConfig } from './types';
import { OPENAI_MEDIA_PRICES, OPENAI_PRICES } from './project';
import clients from './clients/staging.json';

/**
 * Staging: the same shape as production, smaller and disposable. One task, one cache node, one NAT
 * gateway, no interface endpoints, internal ALB on HTTP.
 * Forkers: replace the account ID, the OpenAI organization and project, on-call, and the clients in
 * clients/staging.json.
 */
export const stagingConfig: StageConfig = {
  name: 'Staging',
  production: false,
  env: { account: '111111111111', region: 'us-east-1' },
  gateway: {
    // The callers, edited with `npm run clients` (scripts/clients/) and reviewed in git like this file.
    // The example client's key is the SHA-256 of the placeholder "example-client-key-staging".
    clients: clients as readonly ClientDocument[],
    models: {
      'gpt-4o-mini': OPENAI_PRICES['gpt-4o-mini'],
      'gpt-6-luna': OPENAI_PRICES['gpt-6-luna'],
      'gpt-5.4-mini': OPENAI_PRICES['gpt-5.4-mini'],
      'text-embedding-3-small': OPENAI_PRICES['text-embedding-3-small'],
      // Free: `/v1/moderations` is a default family, and needs its model allowed like any other.
      'omni-moderation-latest': OPENAI_MEDIA_PRICES['omni-moderation-latest'],
    },
    aliases: { default: 'gpt-4o-mini', embeddings: 'text-embedding-3-small' },
    limits: {
      maxTokens: 4096,
      defaultMaxTokens: 1024,
      maxN: 1,
      maxStopSequences: 4,
      maxBodyBytes: 1024 * 1024,
    },
    rateLimits: { rpm: 120, tpm: 120_000, burstSeconds: 60 },
    budget: { monthlyUsd: 50, notifyAtPercent: 80 },
    cache: { ttlSeconds: 3600, version: '1' },
    upstream: {
      organization: 'org-REPLACE_WITH_YOUR_ORGANIZATION',
      project: 'proj_REPLACE_WITH_YOUR_STAGING_PROJECT',
      timeoutMs: 60_000,
      maxRetries: 2,
      maxRetryAfterSeconds: 10,
    },
    moderation: { enabled: false, model: 'omni-moderation-latest' },
    store: { fallback: 'shared', commandTimeoutMs: 50 },
  },
  network: { maxAzs: 2, natGateways: 1, interfaceEndpoints: false },
  service: {
    cpu: 256,
    memoryMiB: 512,
    minTasks: 1,
    maxTasks: 2,
    targetCpuPercent: 60,
    targetRequestsPerTarget: 600,
    internetFacing: false,
    ingressCidrs: ['10.0.0.0/8'],
    idleTimeoutSeconds: 120,
    stopTimeoutSeconds: 30,
    deregistrationDelaySeconds: 30,
    wafRequestsPer5MinPerIp: 600,
  },
  cache: { nodeType: 'cache.t4g.micro', nodes: 1, snapshotRetentionDays: 0 },
  handlers: {
    canaryModel: 'gpt-4o-mini',
    keyRotationDays: 30,
    batchInputRetentionDays: 7,
    batchOutputRetentionDays: 14,
  },
  onCall: { emails: ['oncall-staging@example.com'] },
  infraBudget: { monthlyUsd: 150, notifyAtPercent: 80 },
  logRetentionDays: 14,
};
