/**
 * What a config swap keeps (in process, `Gateway.reload`): a client's rate-limit state and cached
 * answers live in the store keyed by its id, so they survive the swap, and a changed limit applies to
 * the client's next request.
 */
import { GatewayHarness, KEYS, testConfigDocument, chatBody } from '../../support/gateway-harness';

const clients = testConfigDocument().clients as Array<Record<string, unknown>>;
const withAppRpm = (rpm: number) =>
  JSON.stringify(testConfigDocument({ clients: [{ ...clients[0], rpm }, ...clients.slice(1)] }));

describe('Gateway.reload', () => {
  let h: GatewayHarness;
  beforeEach(async () => (h = await GatewayHarness.start()));
  afterEach(() => h.stop());

  it('keeps the requests a client made: a lower limit refuses its next request', async () => {
    // At 3 RPM two requests hold the limiter 40 s ahead: one more fits at 3 RPM and, however slow the
    // machine, none at 1 RPM. (At the test config's 1,000 RPM they are forgotten after 120 ms.)
    expect(h.gateway.reload({ text: withAppRpm(3), source: 'test' }).kind).toBe('applied');
    const sdk = h.client(KEYS.app);
    await sdk.chat.completions.create(chatBody('before reload 1'));
    const second = await sdk.chat.completions.create(chatBody('before reload 2')).withResponse();
    expect(second.response.headers.get('x-ratelimit-remaining-requests')).toBe('1');
    expect(h.gateway.reload({ text: withAppRpm(1), source: 'test' })).toMatchObject({
      kind: 'applied',
      changes: { added: [], removed: [], changed: ['app'] },
    });
    await expect(sdk.chat.completions.create(chatBody('after reload'))).rejects.toMatchObject({
      status: 429,
      error: { code: 'rate_limit_exceeded' },
    });
    // Another client's limit did not change, nor its state.
    await expect(h.client(KEYS.other).chat.completions.create(chatBody('other'))).resolves.toBeDefined();
  });

  it("keeps a client's cached answers through a swap that leaves cache.version alone", async () => {
    const sdk = h.client(KEYS.app);
    const ask = () =>
      sdk.chat.completions.create(chatBody('cached across reload', { temperature: 0 })).withResponse();
    expect((await ask()).response.headers.get('x-cache-status')).toBe('MISS');
    await new Promise((resolve) => setTimeout(resolve, 50)); // the cache write is off the response path
    expect(h.gateway.reload({ text: withAppRpm(500), source: 'test' }).kind).toBe('applied');
    expect((await ask()).response.headers.get('x-cache-status')).toBe('HIT');
  });
});
