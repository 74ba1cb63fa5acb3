/**
 * Exact-match cache keys: SHA-256 over the cache version, the client, the endpoint, the stream flag and
 * the request body after policy in canonical form (object keys sorted), so key order and whitespace do
 * not split the cache and one client never reads another's entries. The store adds the stage prefix.
 */
import { hash } from 'node:crypto';
import type { Endpoint } from './policy';

/** Prefix of every cached value: a JSON body, or the SSE text of a stream to replay. */
export const CacheEntryKind = { json: 'J', stream: 'S' } as const;

/** What a cache key is made of, besides the body. */
export interface CacheKeyScope {
  readonly version: string;
  readonly clientId: string;
  readonly endpoint: Endpoint;
  readonly stream: boolean;
}

/** The key of a request from its body's canonical JSON, which the pipeline also sends upstream (one serialisation). */
export function cacheKey(scope: CacheKeyScope, canonicalBody: string): string {
  const text = `${scope.version}\0${scope.clientId}\0${scope.endpoint}\0${scope.stream ? 's' : 'j'}\0${canonicalBody}`;
  return `cache:${hash('sha256', text, 'hex')}`;
}

/** JSON with object keys sorted at every level; `undefined` members are dropped as JSON.stringify does. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  let out: string;
  if (Array.isArray(value)) {
    out = '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ',';
      const v = value[i];
      out += v === undefined || typeof v === 'function' ? 'null' : canonicalJson(v);
    }
    return out + ']';
  }
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj);
  if (keys.length > 1) sortKeys(keys);
  out = '{';
  let first = true;
  for (const key of keys) {
    const v = obj[key];
    if (v === undefined || typeof v === 'function') continue;
    out += `${first ? '' : ','}${JSON.stringify(key)}:${typeof v === 'string' ? JSON.stringify(v) : canonicalJson(v)}`;
    first = false;
  }
  return out + '}';
}

/**
 * Sorts in place by UTF-16 code units, as `Array.prototype.sort()` does. Request objects have a handful
 * of keys: an insertion sort allocates nothing, where the built-in sort allocates a work array per call
 * (it showed in the gateway's allocation profile).
 */
function sortKeys(keys: string[]): void {
  if (keys.length > 16) {
    keys.sort();
    return;
  }
  for (let i = 1; i < keys.length; i++) {
    const key = keys[i];
    let j = i - 1;
    while (j >= 0 && keys[j] > key) {
      keys[j + 1] = keys[j];
      j--;
    }
    keys[j + 1] = key;
  }
}
