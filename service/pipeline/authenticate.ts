/**
 * Caller authentication. The gateway knows only the SHA-256 of each caller key; the presented key is
 * hashed and looked up in a map from hash to client, so 10,000 clients cost what one does. Looking a
 * hash up directly is safe because the keys are high-entropy (`mintKey`: 256 random bits): a lookup's
 * timing can at most tell an attacker something about the hash of what they sent, and finding a key
 * whose hash lands near a configured one is as hard as inverting SHA-256. A key with `expiresAt` is
 * refused from that instant on, read on the gateway's clock at each lookup, with no reload needed.
 */
import { hash, randomBytes } from 'node:crypto';
import { systemClock, type Clock } from '../../runtime/clock';
import { clientKeys, keyExpiryMs, type ClientConfig } from '../../runtime/gateway-config';

export const sha256Hex = (text: string): string => hash('sha256', text, 'hex');

export type Authenticator = (authorization: string | undefined) => ClientConfig | undefined;

/** The client a key hash belongs to, and when the key stops working (epoch ms, Infinity for never). */
interface KeyEntry {
  readonly client: ClientConfig;
  readonly expiresMs: number;
}

/** Builds the authenticator once per config: the map of every client's keys, not a scan per request. */
export function createAuthenticator(
  clients: readonly ClientConfig[],
  clock: Clock = systemClock,
): Authenticator {
  const byHash = new Map<string, KeyEntry>();
  for (const client of clients) {
    for (const key of clientKeys(client)) byHash.set(key.keySha256, { client, expiresMs: keyExpiryMs(key) });
  }
  return (authorization) => {
    if (!authorization || authorization.length < 8 || authorization.length > 512) return undefined;
    if (authorization.slice(0, 7).toLowerCase() !== 'bearer ') return undefined;
    const key = authorization.slice(7).trim();
    if (key.length === 0) return undefined;
    const entry = byHash.get(sha256Hex(key));
    if (entry === undefined || clock() >= entry.expiresMs) return undefined;
    return entry.client;
  };
}

/** Mints a caller key, `sk-gw-` and 32 random bytes in base64url, with the hash the config holds. */
export function mintKey(): { key: string; keySha256: string } {
  const key = `sk-gw-${randomBytes(32).toString('base64url')}`;
  return { key, keySha256: sha256Hex(key) };
}
