/**
 * The edits `npm run clients` makes to a stage's client list, as pure functions: each takes the list
 * and returns a new one, or throws an `EditError` saying why it cannot apply. Validation of the whole
 * stage document happens after an edit (stage-documents.ts), so these check only what they need to
 * find their target. Key hashes appear in messages as prefixes only.
 */
import type { ApiFamily, ClientKey, ReasoningEffort, ServiceTier } from '../../runtime/gateway-config';
import type { ClientDocument } from '../../lib/config/types';

/** An edit cannot apply (an unknown client id, a key prefix that matches no key or several). */
export class EditError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EditError';
  }
}

/** Characters of a key hash shown in listings and diffs: enough to tell keys apart, useless to a thief. */
export const HASH_PREFIX_LENGTH = 8;

/** The fewest characters `revoke --key` accepts, so a slip cannot match a key by accident. */
export const MIN_KEY_PREFIX_LENGTH = 6;

const DAY_MS = 86_400_000;

/** The limits and lists `add` and `set` may give a client. A list of `undefined` removes the field. */
export interface ClientSettings {
  readonly rpm?: number;
  readonly tpm?: number;
  readonly monthlyBudgetUsd?: number;
  readonly maxConcurrentCalls?: number | null;
  readonly models?: readonly string[] | null;
  readonly apiFamilies?: readonly ApiFamily[] | null;
  readonly serviceTiers?: readonly ServiceTier[] | null;
  readonly reasoningEfforts?: readonly ReasoningEffort[] | null;
}

/** `add`'s limits when the operator gives none: the ones `npm run keygen` printed. */
export const DEFAULT_NEW_CLIENT = { rpm: 60, tpm: 100_000, monthlyBudgetUsd: 10 } as const;

export const hashPrefix = (keySha256: string): string => keySha256.slice(0, HASH_PREFIX_LENGTH);

/** Every key of a client as the gateway accepts them: `keySha256` (never expires), then `keys`. */
export function keysOf(client: ClientDocument): readonly ClientKey[] {
  return [
    ...(client.keySha256 === undefined ? [] : [{ keySha256: client.keySha256 }]),
    ...(client.keys ?? []),
  ];
}

function indexOf(clients: readonly ClientDocument[], id: string): number {
  const i = clients.findIndex((c) => c.id === id);
  if (i < 0)
    throw new EditError(`no client "${id}" (known: ${clients.map((c) => c.id).join(', ') || 'none'})`);
  return i;
}

const replaceAt = <T>(list: readonly T[], i: number, item: T): T[] =>
  list.map((x, j) => (j === i ? item : x));

/** `settings` applied to `client`: a number sets, `null` removes an optional field, `undefined` keeps it. */
function applySettings(client: ClientDocument, settings: ClientSettings): ClientDocument {
  const next: Record<string, unknown> = { ...client };
  for (const [field, value] of Object.entries(settings)) {
    if (value === undefined) continue;
    if (value === null) delete next[field];
    else next[field] = value;
  }
  return next as unknown as ClientDocument;
}

/** The client with these keys, in the order the document keeps (`id`, then its keys, then the rest). */
function withKeys(client: ClientDocument, keys: readonly ClientKey[]): ClientDocument {
  const { id, keySha256: _keySha256, keys: _keys, ...rest } = client;
  const keyFields =
    keys.length === 1 && keys[0].expiresAt === undefined ? { keySha256: keys[0].keySha256 } : { keys };
  return { id, ...keyFields, ...rest } as ClientDocument;
}

/** A new client with one key (its hash) and the given limits, after the existing ones. */
export function addClient(
  clients: readonly ClientDocument[],
  id: string,
  keySha256: string,
  settings: ClientSettings,
): ClientDocument[] {
  if (clients.some((c) => c.id === id))
    throw new EditError(`client "${id}" exists already; use set or rotate`);
  const client = applySettings({ id, keySha256, ...DEFAULT_NEW_CLIENT }, settings);
  return [...clients, client];
}

/**
 * Gives the client a new key; every key it has that would outlive the overlap now expires at
 * `now + overlapDays` (an earlier expiry stays), and keys already expired are dropped.
 */
export function rotateClient(
  clients: readonly ClientDocument[],
  id: string,
  keySha256: string,
  now: Date,
  overlapDays: number,
): ClientDocument[] {
  if (!(overlapDays >= 0)) throw new EditError(`--overlap-days must be 0 or more, got ${overlapDays}`);
  const i = indexOf(clients, id);
  const expiresMs = now.getTime() + overlapDays * DAY_MS;
  const expiresAt = new Date(expiresMs).toISOString().replace(/\.\d+Z$/, 'Z');
  const old = keysOf(clients[i])
    .filter((k) => k.expiresAt === undefined || Date.parse(k.expiresAt) > now.getTime())
    .map((k) =>
      k.expiresAt !== undefined && Date.parse(k.expiresAt) <= expiresMs
        ? k
        : { keySha256: k.keySha256, expiresAt },
    );
  return replaceAt(clients, i, withKeys(clients[i], [...old, { keySha256 }]));
}

/** Removes the client, or with `keyPrefix` only its one key whose hash starts so. */
export function revokeClient(
  clients: readonly ClientDocument[],
  id: string,
  keyPrefix?: string,
): ClientDocument[] {
  const i = indexOf(clients, id);
  if (keyPrefix === undefined) return clients.filter((_, j) => j !== i);
  const prefix = keyPrefix.toLowerCase();
  if (prefix.length < MIN_KEY_PREFIX_LENGTH)
    throw new EditError(`--key needs at least ${MIN_KEY_PREFIX_LENGTH} characters of the key's SHA-256`);
  const keys = keysOf(clients[i]);
  const matches = keys.filter((k) => k.keySha256.startsWith(prefix));
  const shown = keys.map((k) => hashPrefix(k.keySha256)).join(', ');
  if (matches.length === 0)
    throw new EditError(`client "${id}" has no key starting ${prefix} (its keys: ${shown})`);
  if (matches.length > 1)
    throw new EditError(`--key ${prefix} matches ${matches.length} keys of "${id}"; give more`);
  const rest = keys.filter((k) => k !== matches[0]);
  if (rest.length === 0)
    throw new EditError(`"${id}" has no other key: revoke the client (without --key), or rotate first`);
  return replaceAt(clients, i, withKeys(clients[i], rest));
}

/** Changes the client's limits and lists. */
export function setClient(
  clients: readonly ClientDocument[],
  id: string,
  settings: ClientSettings,
): ClientDocument[] {
  const i = indexOf(clients, id);
  if (Object.values(settings).every((v) => v === undefined))
    throw new EditError(
      'set needs at least one of --rpm, --tpm, --budget, --max-concurrent-calls, --models, ...',
    );
  return replaceAt(clients, i, applySettings(clients[i], settings));
}

const describeKey = (k: ClientKey): string =>
  `${hashPrefix(k.keySha256)}${k.expiresAt === undefined ? '' : ` until ${k.expiresAt}`}`;

const show = (value: unknown): string => (Array.isArray(value) ? value.join(',') : String(value));

/** What changed between two client lists, one line per change: ids, fields and key hash prefixes. */
export function diffClients(before: readonly ClientDocument[], after: readonly ClientDocument[]): string[] {
  const lines: string[] = [];
  const byId = new Map(before.map((c) => [c.id, c]));
  const afterIds = new Set(after.map((c) => c.id));
  for (const c of before) {
    if (!afterIds.has(c.id)) lines.push(`- ${c.id}: removed with its ${keysOf(c).length} key(s)`);
  }
  for (const c of after) {
    const old = byId.get(c.id);
    if (old === undefined) {
      const fields = Object.entries(c)
        .filter(([f]) => !['id', 'keySha256', 'keys'].includes(f))
        .map(([f, v]) => `${f} ${show(v)}`);
      lines.push(`+ ${c.id}: key ${keysOf(c).map(describeKey).join(', ')}; ${fields.join(', ')}`);
      continue;
    }
    const fields = new Set([...Object.keys(old), ...Object.keys(c)]);
    for (const f of fields) {
      if (f === 'id' || f === 'keySha256' || f === 'keys') continue;
      const [was, now] = [(old as Record<string, unknown>)[f], (c as Record<string, unknown>)[f]];
      if (JSON.stringify(was) === JSON.stringify(now)) continue;
      lines.push(
        `~ ${c.id}: ${f} ${was === undefined ? '(default)' : show(was)} -> ${now === undefined ? '(default)' : show(now)}`,
      );
    }
    const oldKeys = new Map(keysOf(old).map((k) => [k.keySha256, k]));
    const newKeys = new Map(keysOf(c).map((k) => [k.keySha256, k]));
    for (const [hash, k] of oldKeys) {
      const next = newKeys.get(hash);
      if (next === undefined) lines.push(`~ ${c.id}: key ${describeKey(k)} removed`);
      else if (next.expiresAt !== k.expiresAt)
        lines.push(
          `~ ${c.id}: key ${hashPrefix(hash)} expires ${next.expiresAt ?? 'never'} (was ${k.expiresAt ?? 'never'})`,
        );
    }
    for (const [hash, k] of newKeys)
      if (!oldKeys.has(hash)) lines.push(`~ ${c.id}: key ${describeKey(k)} added`);
  }
  return lines;
}

/** One line per client: id, limits, and its keys (hash prefix, expiry, whether expired at `now`). */
export function listClients(clients: readonly ClientDocument[], now: Date): string[] {
  return clients.map((c) => {
    const keys = keysOf(c).map((k) => {
      const expired = k.expiresAt !== undefined && Date.parse(k.expiresAt) <= now.getTime();
      return `${describeKey(k)}${expired ? ' (expired)' : ''}`;
    });
    const extras = (
      ['maxConcurrentCalls', 'models', 'apiFamilies', 'serviceTiers', 'reasoningEfforts'] as const
    )
      .filter((f) => c[f] !== undefined)
      .map((f) => ` ${f} ${show(c[f])}`)
      .join('');
    return `${c.id}  rpm ${c.rpm}  tpm ${c.tpm}  budget ${c.monthlyBudgetUsd} USD${extras}  ${keys.length} key(s): ${keys.join(', ')}`;
  });
}
