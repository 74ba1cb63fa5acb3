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
