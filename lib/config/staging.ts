import { stageFromBase } from './base';
import { ClientDocument } from './types';
import { OPENAI_MEDIA_PRICES, OPENAI_PRICES } from './project';
import clients from './clients/staging.json';

/**
 * Staging is the base (base.ts) made smaller and disposable: deleted with its stack, unprotected,
 * shorter logs, one task, one cache node, one NAT gateway, no interface endpoints, an internal ALB on
 * HTTP, lower limits and budgets, no moderation.
 * Forkers: replace the account ID, the OpenAI project, on-call, and the clients in clients/staging.json.
 */
export const stagingConfig = stageFromBase({
  name: 'Staging',
  env: { account: '111111111111', region: 'us-east-1' },
  resilience: {
    removalPolicy: 'destroy',
    deletionProtection: false,
    terminationProtection: false,
    accessLogDays: 30,
    requireMultiAz: false,
  },
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
    rateLimits: { rpm: 120, tpm: 120_000, burstSeconds: 60 },
    budget: { monthlyUsd: 50 },
    upstream: { project: 'proj_REPLACE_WITH_YOUR_STAGING_PROJECT' },
    moderation: { enabled: false },
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
    stopTimeoutSeconds: 30,
    deregistrationDelaySeconds: 30,
    wafRequestsPer5MinPerIp: 600,
  },
  cache: { nodeType: 'cache.t4g.micro', nodes: 1, snapshotRetentionDays: 0 },
  handlers: { batchInputRetentionDays: 7, batchOutputRetentionDays: 14 },
  onCall: { emails: ['oncall-staging@example.com'] },
  infraBudget: { monthlyUsd: 150 },
  logRetentionDays: 14,
});
