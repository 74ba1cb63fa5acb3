import { baseConfig, deepMerge, productionConfig, stageFromBase, stagingConfig } from '../../../lib/config';

describe('deepMerge', () => {
  const base = {
    a: 1,
    nested: { x: 'base', y: ['b1', 'b2'], deeper: { keep: true, change: 1 } },
    list: [1, 2, 3],
  };

  it('merges objects key by key and keeps what the delta leaves out', () => {
    expect(deepMerge(base, { nested: { deeper: { change: 2 } } })).toEqual({
      a: 1,
      nested: { x: 'base', y: ['b1', 'b2'], deeper: { keep: true, change: 2 } },
      list: [1, 2, 3],
    });
  });

  it('replaces arrays instead of concatenating them', () => {
    const merged = deepMerge(base, { list: [9], nested: { y: [] } });
    expect(merged.list).toEqual([9]);
    expect(merged.nested.y).toEqual([]);
  });

  it('keeps the base value for a key set to undefined', () => {
    expect(deepMerge(base, { a: undefined, nested: undefined })).toEqual(base);
  });

  it("keeps the base's key order and appends new keys", () => {
    const merged = deepMerge<Record<string, number>>({ b: 1, a: 2 }, { c: 3, a: 4 });
    expect(Object.entries(merged)).toEqual([
      ['b', 1],
      ['a', 4],
      ['c', 3],
    ]);
  });

  it('modifies neither argument', () => {
    const delta = { nested: { x: 'delta' } };
    const before = JSON.stringify([base, delta]);
    deepMerge(base, delta);
    expect(JSON.stringify([base, delta])).toBe(before);
  });
});

describe('the stages as the base plus a delta', () => {
  it('production keeps the base wherever its delta says nothing', () => {
    const { name, env, gateway, service, onCall, ...rest } = productionConfig;
    const { gateway: baseGateway, service: baseService, onCall: baseOnCall, ...baseRest } = baseConfig;
    expect(rest).toEqual(baseRest);
    expect(service).toEqual({ ...baseService, certificateArn: service.certificateArn });
    expect(onCall).toEqual({ ...baseOnCall, pagerUrl: onCall.pagerUrl });
    expect(gateway.limits).toEqual(baseGateway.limits);
    expect([name, env.account]).toEqual(['Production', '222222222222']);
  });

  it('staging overrides durability, sizes and lists, and keeps the shared settings', () => {
    expect(stagingConfig.resilience.removalPolicy).toBe('destroy');
    expect(stagingConfig.service.ingressCidrs).toEqual(['10.0.0.0/8']);
    expect(stagingConfig.onCall.emails).toEqual(['oncall-staging@example.com']);
    expect(stagingConfig.service.idleTimeoutSeconds).toBe(baseConfig.service.idleTimeoutSeconds);
    expect(stagingConfig.gateway.upstream.organization).toBe(baseConfig.gateway.upstream.organization);
    expect(stagingConfig.gateway.budget).toEqual({ monthlyUsd: 50, notifyAtPercent: 80 });
  });

  it('leaves the base unchanged', () => {
    const before = JSON.stringify(baseConfig);
    stageFromBase({
      name: 'Third',
      env: { account: '333333333333', region: 'us-west-2' },
      gateway: { clients: [], models: {}, aliases: {} },
      service: { ingressCidrs: ['10.1.0.0/16'] },
    });
    expect(JSON.stringify(baseConfig)).toBe(before);
  });
});
