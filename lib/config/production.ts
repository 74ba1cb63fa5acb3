import { ClientDocument, StageConfig } from './types';
import { OPENAI_MEDIA_PRICES, OPENAI_PRICES } from './project';
import clients from './clients/production.json';

/**
 * Production: at least two tasks across AZs, a multi-AZ cache with automatic failover, a NAT gateway
 * and interface endpoints in every AZ, an internet-facing HTTPS ALB, and stateful resources retained.
 * Forkers: replace the account ID, certificate, OpenAI organization and project, on-call, and the
 * clients in clients/production.json.
 */
export const productionConfig: StageConfig = {
  name: 'Production',
  production: true,
  env: { account: '222222222222', region: 'us-east-1' },
  gateway: {
    // The callers, edited with `npm run clients` (scripts/clients/) and reviewed in git like this file.
    // The example client's key is the SHA-256 of the placeholder "example-client-key-production".
    clients: clients as readonly ClientDocument[],
    models: {
      'gpt-4o-mini': OPENAI_PRICES['gpt-4o-mini'],
      'gpt-6.2-sol': OPENAI_PRICES['gpt-6.2-sol'],
      'gpt-6-luna': OPENAI_PRICES['gpt-6-luna'],
      'gpt-5.4-mini': OPENAI_PRICES['gpt-5.4-mini'],
      'gpt-4o': OPENAI_PRICES['gpt-4o'],
      'text-embedding-3-small': OPENAI_PRICES['text-embedding-3-small'],
      // Free: `/v1/moderations` is a default family, and needs its model allowed like any other.
      'omni-moderation-latest': OPENAI_MEDIA_PRICES['omni-moderation-latest'],
    },
    aliases: { default: 'gpt-4o-mini', smart: 'gpt-4o', embeddings: 'text-embedding-3-small' },
    limits: {
      maxTokens: 4096,
      defaultMaxTokens: 1024,
      maxN: 1,
      maxStopSequences: 4,
      maxBodyBytes: 1024 * 1024,
    },
    rateLimits: { rpm: 1000, tpm: 800_000, burstSeconds: 10 },
    budget: { monthlyUsd: 1000, notifyAtPercent: 80 },
    cache: { ttlSeconds: 3600, version: '1' },
    upstream: {
      organization: 'org-REPLACE_WITH_YOUR_ORGANIZATION',
      project: 'proj_REPLACE_WITH_YOUR_PRODUCTION_PROJECT',
      timeoutMs: 60_000,
      maxRetries: 2,
      maxRetryAfterSeconds: 10,
    },
    moderation: { enabled: true, model: 'omni-moderation-latest' },
    store: { fallback: 'shared', commandTimeoutMs: 50 },
  },
  network: { maxAzs: 3, natGateways: 3, interfaceEndpoints: true },
  service: {
    cpu: 1024,
    memoryMiB: 2048,
    minTasks: 3,
    maxTasks: 12,
    targetCpuPercent: 50,
    targetRequestsPerTarget: 1000,
    internetFacing: true,
    ingressCidrs: ['0.0.0.0/0'],
    certificateArn: 'arn:aws:acm:us-east-1:222222222222:certificate/00000000-0000-0000-0000-000000000000',
    idleTimeoutSeconds: 120,
    stopTimeoutSeconds: 60,
    deregistrationDelaySeconds: 60,
    wafRequestsPer5MinPerIp: 3000,
  },
  cache: { nodeType: 'cache.m7g.large', nodes: 2, snapshotRetentionDays: 7 },
  handlers: {
    canaryModel: 'gpt-4o-mini',
    keyRotationDays: 30,
    batchInputRetentionDays: 30,
    batchOutputRetentionDays: 90,
  },
  onCall: {
    emails: ['oncall@example.com'],
    pagerUrl: 'https://events.pagerduty.com/integration/REPLACE_ME/enqueue',
  },
  infraBudget: { monthlyUsd: 1500, notifyAtPercent: 80 },
  logRetentionDays: 365,
};
