/**
 * Upstream answers that carry stored objects, made the caller's: a create's object is recorded as its
 * caller's before its id reaches the caller, and a list shows only the caller's objects (its cursor
 * too), paging upstream until it has `limit` of them or a bound of pages.
 */
import { isJsonObject, parseJsonObject } from '../../runtime/json';
import type { StoredObjectKind } from '../endpoints/spec';
import { OBJECT_ID } from '../endpoints/object-routes';
import { invalidRequest, unavailable } from '../errors';
import type { UpstreamResponse } from '../upstream/client';
import { upstreamStatusError } from '../upstream/errors';
import type { PipelineDeps } from './model-call';
import { ownedBy, OWNER_TTL_SECONDS } from './objects';
import { MAX_JSON_ANSWER_BYTES, readCapped } from './relay-json';

/** Records `id` as `clientId`'s `kind`. A record that cannot be written leaves the object unreachable. */
export async function recordOwner(
  deps: Pick<PipelineDeps, 'store'>,
  clientId: string,
  kind: StoredObjectKind,
  id: unknown,
): Promise<void> {
  if (typeof id !== 'string' || !OBJECT_ID.test(id)) return;
  await deps.store.owners.record(id, { clientId }, OWNER_TTL_SECONDS[kind]).catch(() => undefined);
}

/** The text of a create's answer; on a 200 its object's `id` is the caller's before the text is returned. */
export async function recordOwnedAnswer(
  deps: Pick<PipelineDeps, 'store'>,
  input: { readonly clientId: string; readonly kind: StoredObjectKind; readonly up: UpstreamResponse },
): Promise<string> {
  const text = await readCapped(input.up.body, MAX_JSON_ANSWER_BYTES);
  if (input.up.status === 200) await recordOwner(deps, input.clientId, input.kind, parseJsonObject(text)?.id);
  return text;
}

/** Upstream pages a list reads at most for one caller's page. */
export const MAX_LIST_PAGES = 10;
/** Objects per upstream page (the most both the files and batches lists take). */
const UPSTREAM_PAGE = 100;

/** One caller's list call. */
export interface OwnedListInput {
  readonly clientId: string;
  readonly kind: StoredObjectKind;
  /** The upstream list path, e.g. `/files`. */
  readonly path: string;
  /** The caller's query string. */
  readonly query: URLSearchParams;
  /** Query parameters forwarded as they are (besides `after` and `limit`). */
  readonly forwarded: readonly string[];
  /** The caller's page size when it sends none, and the largest it may ask for. */
  readonly limits: { readonly default: number; readonly max: number };
  readonly signal: AbortSignal;
  /** Sees each of the caller's objects before the page goes out. @default none */
  readonly observe?: (object: Record<string, unknown>) => Promise<void>;
}

/** A cursor list of the caller's objects, as OpenAI answers one. @throws GatewayError as upstream or ownership do */
export async function listOwned(deps: PipelineDeps, input: OwnedListInput): Promise<string> {
  const limit = pageLimit(input);
  let after = input.query.get('after') ?? undefined;
  if (after !== undefined)
    await ownedBy(deps.store.owners, input.clientId, { kind: input.kind, id: after, param: 'after' });
  const data: Record<string, unknown>[] = [];
  let hasMore = false;
  for (let page = 0; page < MAX_LIST_PAGES && data.length < limit; page++) {
    const upstream = await readPage(deps, input, after);
    const owned = await ownedOf(deps, input, upstream.data);
    const room = limit - data.length;
    data.push(...owned.slice(0, room));
    hasMore = upstream.hasMore || owned.length > room;
    if (!upstream.hasMore || upstream.data.length === 0) break;
    // Past the last object read: the caller's next cursor is its own last object, read again from there.
    after = String(upstream.data[upstream.data.length - 1].id);
  }
  for (const object of data) await input.observe?.(object);
  return JSON.stringify({
    object: 'list',
    data,
    first_id: data[0]?.id ?? null,
    last_id: data[data.length - 1]?.id ?? null,
    has_more: hasMore,
  });
}

function pageLimit(input: OwnedListInput): number {
  const text = input.query.get('limit');
  if (text === null) return input.limits.default;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > input.limits.max) {
    throw invalidRequest(
      `Invalid 'limit': expected an integer between 1 and ${input.limits.max}, but got ${text} instead.`,
      'limit',
      'integer_out_of_range',
    );
  }
  return n;
}

async function readPage(
  deps: PipelineDeps,
  input: OwnedListInput,
  after: string | undefined,
): Promise<{ readonly data: readonly Record<string, unknown>[]; readonly hasMore: boolean }> {
  const query = new URLSearchParams({ limit: String(UPSTREAM_PAGE) });
  if (after !== undefined) query.set('after', after);
  for (const name of input.forwarded) {
    const value = input.query.get(name);
    if (value !== null) query.set(name, value);
  }
  const up = await deps.upstream.send({
    method: 'GET',
    path: `${input.path}?${query}`,
    signal: input.signal,
  });
  const text = await readCapped(up.body, MAX_JSON_ANSWER_BYTES);
  if (up.status !== 200) throw upstreamStatusError(up.status, text);
  const list = parseJsonObject(text);
  const data = Array.isArray(list?.data) ? list.data.filter(isJsonObject) : [];
  return { data, hasMore: list?.has_more === true };
}

/** The objects of `page` the caller owns, in order. @throws GatewayError 503 when ownership cannot be read */
async function ownedOf(
  deps: PipelineDeps,
  input: OwnedListInput,
  page: readonly Record<string, unknown>[],
): Promise<Record<string, unknown>[]> {
  let owners;
  try {
    owners = await Promise.all(
      page.map((o) => (typeof o.id === 'string' ? deps.store.owners.lookup(o.id) : undefined)),
    );
  } catch {
    throw unavailable('The gateway cannot check who owns these objects right now. Please try again shortly.');
  }
  return page.filter((_, i) => owners[i]?.clientId === input.clientId);
}
