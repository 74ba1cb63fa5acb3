/**
 * Exact-match cache keys: SHA-256 over the cache version, the client, the endpoint, the stream flag and
 * the request body after policy in canonical form (object keys sorted), so key order and whitespace do
 * not split the cache and one client never reads another's entries. The store adds the stage prefix.
 */
import { createHash } from 'node:crypto';
import type { Endpoint } from './policy';

/** Prefix of every cached value: a JSON body, or the SSE text of a stream to replay. */
export const CacheEntryKind = { json: 'J', stream: 'S' } as const;

export function cacheKey(opts: {
  version: string;
  clientId: string;
  endpoint: Endpoint;
  stream: boolean;
  body: unknown;
}): string {
  const hash = createHash('sha256');
  hash.update(`${opts.version}\0${opts.clientId}\0${opts.endpoint}\0${opts.stream ? 's' : 'j'}\0`);
  hash.update(canonicalJson(opts.body));
  return `cache:${hash.digest('hex')}`;
}

/** JSON with object keys sorted at every level; `undefined` members are dropped as JSON.stringify does. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value))
    return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  const obj = value as Record<string, unknown>;
  const parts: string[] = [];
  for (const key of Object.keys(obj).sort()) {
    if (obj[key] === undefined) continue;
    parts.push(`${JSON.stringify(key)}:${canonicalJson(obj[key])}`);
  }
  return `{${parts.join(',')}}`;
}
