/**
 * The response cache's side of a call: which calls may be cached, their exact-match key, the entry a
 * complete answer is stored as, and single flight for identical concurrent misses.
 *
 * Keys are SHA-256 over the cache version, the client, the endpoint, how the answer is delivered (JSON,
 * or a stream with or without the usage chunk) and the upstream body in canonical form (object keys
 * sorted), so key order and whitespace do not split the cache and one client never reads another's
 * entries. The store adds the stage prefix.
 */
import { hash } from 'node:crypto';
import type { GatewayConfig } from '../../runtime/gateway-config';
import type { PreparedCall } from '../endpoints';
import { encodeMultipart } from '../http/multipart';
import type { CacheEntry } from '../store/types';

/** Prefix of every cached value: a JSON body, or the SSE text of a stream to replay. */
export const CacheEntryKind = { json: 'J', stream: 'S' } as const;

/** What a cache key is made of, besides the body. */
export interface CacheKeyScope {
  readonly version: string;
  readonly clientId: string;
  /** The endpoint spec's name. */
  readonly endpoint: string;
  readonly stream: boolean;
  /** A stream replays with the usage chunk or without it. */
  readonly callerWantsUsage?: boolean;
}

/** The key of a request from its body's canonical JSON, which the pipeline also sends upstream (one serialisation). */
export function cacheKey(scope: CacheKeyScope, canonicalBody: string): string {
  const delivery = scope.stream ? (scope.callerWantsUsage ? 'su' : 's') : 'j';
  const text = `${scope.version}\0${scope.clientId}\0${scope.endpoint}\0${delivery}\0${canonicalBody}`;
  return `cache:${hash('sha256', text, 'hex')}`;
}

/** How one call uses the cache: the body to send upstream, and its key when it may be cached. */
export interface CachePlan {
  /** JSON text, or an encoded multipart form. */
  readonly payload: string | Buffer;
  /** The payload's content type when it is not JSON (a multipart form's, with its boundary). @default JSON */
  readonly contentType?: string;
  readonly key?: string;
}

export interface CachePlanInput {
  readonly config: GatewayConfig;
  readonly clientId: string;
  readonly prepared: PreparedCall;
  /** The caller's `Cache-Control` header: `no-cache` or `no-store` bypasses the cache. */
  readonly cacheControl: string | undefined;
}

/** The canonical JSON keys the cache and is also the body sent upstream: the body is serialised once. */
export function planCache({ config, clientId, prepared, cacheControl }: CachePlanInput): CachePlan {
  // Uploads are not cached: their key would hash megabytes for answers rarely asked twice.
  if (prepared.files) return encodeMultipart(prepared.body, prepared.files);
  const cacheable = config.cache.ttlSeconds > 0 && prepared.deterministic && !bypassesCache(cacheControl);
  if (!cacheable) return { payload: JSON.stringify(prepared.body) };
  const payload = canonicalJson(prepared.body);
  const scope = {
    version: config.cache.version,
    clientId,
    endpoint: prepared.spec.name,
    stream: prepared.stream,
    callerWantsUsage: prepared.callerWantsUsage,
  };
  return { payload, key: cacheKey(scope, payload) };
}

function bypassesCache(cacheControl: string | undefined): boolean {
  return cacheControl !== undefined && /no-cache|no-store/i.test(cacheControl);
}

/**
 * Largest answer cached, in UTF-16 code units (at least its bytes / 3): one entry must not fill the
 * cache node or slow the store command that settles and writes it, which admissions share.
 */
export const MAX_CACHE_ENTRY_CHARS = 1 << 20;

/** The entry a complete answer is cached as; undefined for an answer too large to cache. */
export function cacheEntry(
  key: string,
  kind: 'json' | 'stream',
  text: string,
  ttlSeconds: number,
): CacheEntry | undefined {
  if (text.length > MAX_CACHE_ENTRY_CHARS) return undefined;
  return { key, value: CacheEntryKind[kind] + text, ttlSeconds };
}

/** A cached value split into how it replays and what it replays. */
export function cachedAnswer(value: string): { readonly stream: boolean; readonly payload: string } {
  return { stream: value[0] === CacheEntryKind.stream, payload: value.slice(1) };
}

/** An answer shared by the callers of one flight. */
export interface SharedAnswer {
  readonly status: number;
  readonly text: string;
}

/** Identical cacheable JSON calls in flight at once share one upstream call, by cache key. */
export class SingleFlight {
  private readonly flights = new Map<string, Promise<SharedAnswer>>();

  /**
   * The call in flight under `key`, if any, resolving to its answer when that succeeded. Synchronous
   * when there is none, so a call that finds no flight can lead one before any other call looks.
   */
  joined(key: string): Promise<SharedAnswer | undefined> | undefined {
    const leader = this.flights.get(key);
    if (leader === undefined) return undefined;
    return leader.then(
      (shared) => (shared.status === 200 ? shared : undefined),
      () => undefined,
    );
  }

  /** Runs `call` as the flight under `key` until it settles. */
  lead(key: string, call: Promise<SharedAnswer>): Promise<SharedAnswer> {
    this.flights.set(key, call);
    const forget = () => {
      if (this.flights.get(key) === call) this.flights.delete(key);
    };
    call.then(forget, forget);
    return call;
  }
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
