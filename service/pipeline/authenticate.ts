/**
 * Caller authentication. The gateway knows only the SHA-256 of each caller key; the presented key is
 * hashed and compared with every configured hash in constant time (no early exit), so the response
 * time does not depend on which hash, or how much of one, matched.
 */
import { hash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ClientConfig } from '../../runtime/gateway-config';

export const sha256Hex = (text: string): string => hash('sha256', text, 'hex');

export type Authenticator = (authorization: string | undefined) => ClientConfig | undefined;

/** Builds the authenticator once at start: the hashes are decoded up front, not per request. */
export function createAuthenticator(clients: readonly ClientConfig[]): Authenticator {
  const entries = clients.map((client) => ({ client, digest: Buffer.from(client.keySha256, 'hex') }));
  return (authorization) => {
    if (!authorization || authorization.length < 8 || authorization.length > 512) return undefined;
    if (authorization.slice(0, 7).toLowerCase() !== 'bearer ') return undefined;
    const key = authorization.slice(7).trim();
    if (key.length === 0) return undefined;
    const digest = hash('sha256', key, 'buffer');
    let found: ClientConfig | undefined;
    for (const entry of entries) {
      if (timingSafeEqual(digest, entry.digest) && found === undefined) found = entry.client;
    }
    return found;
  };
}

/** Mints a caller key, `sk-gw-` and 32 random bytes in base64url, with the hash the config holds. */
export function mintKey(): { key: string; keySha256: string } {
  const key = `sk-gw-${randomBytes(32).toString('base64url')}`;
  return { key, keySha256: sha256Hex(key) };
}
