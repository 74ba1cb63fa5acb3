/** OpenAI's `x-ratelimit-*` response headers, from the store's snapshot of the caller's limits. */
import type { RateLimitSnapshot } from '../store/types';

export function rateLimitHeaders(s: RateLimitSnapshot): Record<string, string> {
  return {
    'x-ratelimit-limit-requests': String(s.limitRequests),
    'x-ratelimit-remaining-requests': String(Math.max(0, Math.floor(s.remainingRequests))),
    'x-ratelimit-reset-requests': formatDuration(s.resetRequestsMs),
    'x-ratelimit-limit-tokens': String(s.limitTokens),
    'x-ratelimit-remaining-tokens': String(Math.max(0, Math.floor(s.remainingTokens))),
    'x-ratelimit-reset-tokens': formatDuration(s.resetTokensMs),
  };
}

/** OpenAI's duration style: `20ms`, `1s`, `6m0s`, `1h2m3s`. */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.ceil(ms));
  if (total < 1000) return `${total}ms`;
  let seconds = Math.ceil(total / 1000);
  const hours = Math.floor(seconds / 3600);
  seconds -= hours * 3600;
  const minutes = Math.floor(seconds / 60);
  seconds -= minutes * 60;
  if (hours > 0) return `${hours}h${minutes}m${seconds}s`;
  if (minutes > 0) return `${minutes}m${seconds}s`;
  return `${seconds}s`;
}
