import { stageFromBase } from './base';
import { ClientDocument } from './types';
import { OPENAI_MEDIA_PRICES, OPENAI_PRICES } from './project';
import clients from './clients/production.json';

/**
 * Production is the base (base.ts: three AZs, three tasks and up, a cache with automatic failover,
 * interface endpoints, an internet-facing ALB, everything retained and protected) in its own account,
 * with a certificate, a pager and the larger model list.
 * Forkers: replace the account ID, certificate, OpenAI project, pager, and the clients in
 * clients/production.json (the organization and on-call email are in base.ts).
 */
export const productionConfig = stageFromBase({
  name: 'Production',
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
    upstream: { project: 'proj_REPLACE_WITH_YOUR_PRODUCTION_PROJECT' },
  },
  service: {
    certificateArn: 'arn:aws:acm:us-east-1:222222222222:certificate/00000000-0000-0000-0000-000000000000',
  },
  onCall: { pagerUrl: 'https://events.pagerduty.com/integration/REPLACE_ME/enqueue' },
});
