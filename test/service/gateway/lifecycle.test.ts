import { chatBody, GatewayHarness } from '../../support/gateway-harness';

describe('gateway lifecycle', () => {
  it('turns readiness off at shutdown and lets an in-flight request finish', async () => {
    const h = await GatewayHarness.start();
    h.fake.enqueue({ delayMs: 200 });
    const base = h.url.replace(/\/v1$/, '');
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    const inflight = h.client().chat.completions.create(chatBody());
    await h.fake.waitFor(() => h.fake.received === 1);
    const stopping = h.stop();
    expect(h.gateway.ready).toBe(false);
    await expect(inflight).resolves.toMatchObject({ object: 'chat.completion' });
    await stopping;
    // Metrics were flushed on the way out.
    expect(h.lines.some((l) => l.includes('"_aws"'))).toBe(true);
  });

  it('closes what is still open when the shutdown timeout is reached', async () => {
    const h = await GatewayHarness.start({ gateway: { shutdownTimeoutMs: 100 } });
    h.fake.enqueue({ chunks: 1000, chunkDelayMs: 50 });
    const stream = await h.client().chat.completions.create({ ...chatBody(), stream: true });
    const reading = (async () => {
      for await (const _ of stream) void _;
    })().catch((e: unknown) => e);
    await h.stop();
    expect(await reading).toMatchObject({ message: expect.any(String) });
    expect(h.lines.join('\n')).toContain('shutdown timeout reached');
  });
});
