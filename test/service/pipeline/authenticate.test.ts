import { parseGatewayConfig } from '../../../runtime/gateway-config';
import { createAuthenticator, mintKey } from '../../../service/pipeline/authenticate';
import { testConfigDocument } from '../../support/gateway-harness';

describe('authenticate', () => {
  it('authenticates minted keys by hash only', () => {
    const { key, keySha256 } = mintKey();
    expect(key).toMatch(/^sk-gw-[A-Za-z0-9_-]{43}$/);
    const config = parseGatewayConfig(testConfigDocument());
    const auth = createAuthenticator([...config.clients, { ...config.clients[0], id: 'minted', keySha256 }]);
    expect(auth(`Bearer ${key}`)?.id).toBe('minted');
    expect(auth(`bearer ${key}`)?.id).toBe('minted');
    expect(auth(key)).toBeUndefined();
    expect(auth(`Bearer ${key}x`)).toBeUndefined();
    expect(auth(undefined)).toBeUndefined();
  });
});

describe('authenticate with keys', () => {
  const expiry = '2026-06-01T12:00:00Z';
  const expiryMs = Date.parse(expiry);
  const old = mintKey();
  const fresh = mintKey();
  const client = {
    ...parseGatewayConfig(testConfigDocument()).clients[0],
    keySha256: fresh.keySha256,
    keys: [{ keySha256: fresh.keySha256 }, { keySha256: old.keySha256, expiresAt: expiry }],
  };

  it('accepts every key of a client until its expiry, and refuses it from that instant on', () => {
    let now = expiryMs - 1;
    const auth = createAuthenticator([client], () => now);
    expect(auth(`Bearer ${old.key}`)?.id).toBe('app');
    expect(auth(`Bearer ${fresh.key}`)?.id).toBe('app');
    now = expiryMs;
    expect(auth(`Bearer ${old.key}`)).toBeUndefined();
    expect(auth(`Bearer ${fresh.key}`)?.id).toBe('app');
  });

  it('finds the right client among 10,000', () => {
    const minted = Array.from({ length: 10_000 }, () => mintKey());
    const clients = minted.map(({ keySha256 }, i) => ({
      ...client,
      id: `c${i}`,
      keySha256,
      keys: undefined,
    }));
    const auth = createAuthenticator(clients);
    expect(auth(`Bearer ${minted[9_876].key}`)?.id).toBe('c9876');
    expect(auth(`Bearer ${old.key}`)).toBeUndefined();
  });
});
