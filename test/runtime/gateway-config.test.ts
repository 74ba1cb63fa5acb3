import {
  GatewayConfigError,
  gatewayConfigDocument,
  parseGatewayConfig,
  resolveModel,
} from '../../runtime/gateway-config';

/** The example document from the gateway issue, as operators will write it. */
const sample = () => ({
  clients: [
    {
      id: 'team-a',
      keySha256: 'a'.repeat(64),
      rpm: 600,
      tpm: 200000,
      monthlyBudgetUsd: 50,
      models: ['default'],
    },
  ],
  models: { 'gpt-4o-mini': { inputUsdPer1M: 0.15, outputUsdPer1M: 0.6 } },
  aliases: { default: 'gpt-4o-mini' },
  limits: { maxTokens: 1024, defaultMaxTokens: 256, maxN: 1, maxStopSequences: 4, maxBodyBytes: 1048576 },
  budget: { monthlyUsd: 1000, notifyAtPercent: 80 },
  cache: { ttlSeconds: 3600 },
});

function errorOf(doc: unknown): GatewayConfigError {
  try {
    parseGatewayConfig(doc);
  } catch (err) {
    if (err instanceof GatewayConfigError) return err;
    throw err;
  }
  throw new Error('expected the document to be rejected');
}

describe('parseGatewayConfig', () => {
  it('reads back what gatewayConfigDocument writes of a parsed config, rotation keys included', () => {
    // The task's GATEWAY_CONFIG_JSON and AppConfig's hosted version are written this way; a plain
    // JSON.stringify of the parsed config repeats a rotated client's first key and is refused.
    const doc = sample();
    const { keySha256, ...client } = doc.clients[0];
    const rotated = {
      ...doc,
      clients: [
        {
          ...client,
          keys: [{ keySha256, expiresAt: '2027-01-01T00:00:00Z' }, { keySha256: 'b'.repeat(64) }],
        },
        doc.clients[0] && { ...doc.clients[0], id: 'team-b', keySha256: 'c'.repeat(64) },
      ],
    };
    const parsed = parseGatewayConfig(rotated);
    const written = JSON.parse(JSON.stringify(gatewayConfigDocument(parsed))) as unknown;
    expect(parseGatewayConfig(written)).toEqual(parsed);
    expect(() => parseGatewayConfig(JSON.parse(JSON.stringify(parsed)))).toThrow(
      'repeats another client key',
    );
  });

  it('accepts the documented example and fills every default', () => {
    const config = parseGatewayConfig(sample());
    expect(config.stage).toBe('local');
    expect(config.rateLimits).toEqual({ rpm: 600, tpm: 200000, burstSeconds: 60 });
    expect(config.cache).toEqual({ ttlSeconds: 3600, version: '1' });
    expect(config.upstream).toEqual({ timeoutMs: 60000, maxRetries: 2, maxRetryAfterSeconds: 10 });
    expect(config.moderation).toEqual({ enabled: false, model: 'omni-moderation-latest' });
    expect(config.store).toEqual({ fallback: 'shared', commandTimeoutMs: 50 });
    expect(config.clients[0].models).toEqual(['default']);
  });

  it('keeps explicit optional fields', () => {
    const config = parseGatewayConfig({
      ...sample(),
      stage: 'production',
      rateLimits: { rpm: 100, tpm: 5000, burstSeconds: 5 },
      cache: { ttlSeconds: 0, version: 7 },
      upstream: {
        organization: 'org-1',
        project: 'proj_1',
        timeoutMs: 2000,
        maxRetries: 0,
        maxRetryAfterSeconds: 3,
      },
      moderation: { enabled: true },
      store: { fallback: 'closed', commandTimeoutMs: 20 },
    });
    expect(config.stage).toBe('production');
    expect(config.rateLimits).toEqual({ rpm: 100, tpm: 5000, burstSeconds: 5 });
    expect(config.cache.version).toBe('7');
    expect(config.upstream.organization).toBe('org-1');
    expect(config.moderation.enabled).toBe(true);
    expect(config.store.fallback).toBe('closed');
  });

  it('keeps audio prices, file tokens and reasoning efforts', () => {
    const model = {
      inputUsdPer1M: 2.5,
      outputUsdPer1M: 10,
      audioInputUsdPer1M: 32,
      audioOutputUsdPer1M: 64,
      fileTokens: 9_000,
    };
    const config = parseGatewayConfig({
      ...sample(),
      models: { ...sample().models, 'gpt-audio': model },
      clients: [
        { ...sample().clients[0], reasoningEfforts: ['low', 'medium'], apiFamilies: ['chat', 'files'] },
      ],
    });
    expect(config.models['gpt-audio']).toEqual(model);
    expect(config.clients[0].reasoningEfforts).toEqual(['low', 'medium']);
    expect(config.clients[0].apiFamilies).toEqual(['chat', 'files']);
  });

  it('keeps cache-write prices, long-context rules and service-tier factors', () => {
    const model = {
      inputUsdPer1M: 2,
      cachedInputUsdPer1M: 0.1,
      cacheWriteUsdPer1M: 2.5,
      outputUsdPer1M: 10,
      longContext: { aboveInputTokens: 272_000, inputFactor: 2, outputFactor: 1.5 },
      serviceTierFactors: { flex: 0.5, priority: 2 },
    };
    const config = parseGatewayConfig({ ...sample(), models: { ...sample().models, 'gpt-6.2-sol': model } });
    expect(config.models['gpt-6.2-sol']).toEqual(model);
  });

  it.each([
    ['a missing document', null, '(document)', 'gateway config: (document) must be an object'],
    [
      'an unknown API family',
      { ...sample(), clients: [{ ...sample().clients[0], apiFamilies: ['chat', 'assistants'] }] },
      'clients[0].apiFamilies[1]',
      'gateway config: clients[0].apiFamilies[1] must be one of chat, embeddings, responses, completions, conversations, moderations, files, batches, audio, images, traces',
    ],
    [
      'a fractional rpm',
      { ...sample(), clients: [{ ...sample().clients[0], rpm: 1.5 }] },
      'clients[0].rpm',
      'gateway config: clients[0].rpm must be an integer',
    ],
    [
      'an uppercase key hash',
      { ...sample(), clients: [{ ...sample().clients[0], keySha256: 'A'.repeat(64) }] },
      'clients[0].keySha256',
      'gateway config: clients[0].keySha256 must be 64 lowercase hex characters (a SHA-256)',
    ],
    [
      'a client model without a price',
      { ...sample(), clients: [{ ...sample().clients[0], models: ['gpt-5'] }] },
      'clients[0].models[0]',
      'gateway config: clients[0].models[0] names "gpt-5", which is neither a model nor an alias',
    ],
    [
      'an alias to an unpriced model',
      { ...sample(), aliases: { default: 'gpt-5' } },
      'aliases.default',
      'gateway config: aliases.default points to "gpt-5", which has no price in models',
    ],
    [
      'a default above the cap',
      { ...sample(), limits: { ...sample().limits, defaultMaxTokens: 2048 } },
      'limits.defaultMaxTokens',
      'gateway config: limits.defaultMaxTokens must not exceed limits.maxTokens (1024)',
    ],
    [
      'a client budget above the stage budget',
      { ...sample(), clients: [{ ...sample().clients[0], monthlyBudgetUsd: 5000 }] },
      'clients[0].monthlyBudgetUsd',
      'gateway config: clients[0].monthlyBudgetUsd (5000) must not exceed budget.monthlyUsd (1000)',
    ],
    [
      'a negative price',
      { ...sample(), models: { 'gpt-4o-mini': { inputUsdPer1M: -1, outputUsdPer1M: 0.6 } } },
      'models.gpt-4o-mini.inputUsdPer1M',
      'gateway config: models.gpt-4o-mini.inputUsdPer1M must be a number from 0 to 9007199254740991',
    ],
    [
      'two clients with one key',
      { ...sample(), clients: [sample().clients[0], { ...sample().clients[0], id: 'team-b' }] },
      'clients[1].keySha256',
      'gateway config: clients[1].keySha256 repeats another client key',
    ],
    [
      'the retired local fallback',
      { ...sample(), store: { fallback: 'local' } },
      'store.fallback',
      'gateway config: store.fallback is "local", which let N replicas admit N times the limits and budgets: use "shared" (their shares), "open" or "closed"',
    ],
    [
      'an unknown fallback',
      { ...sample(), store: { fallback: 'maybe' } },
      'store.fallback',
      'gateway config: store.fallback must be "shared", "open" or "closed"',
    ],
    [
      'more stop sequences than OpenAI accepts',
      { ...sample(), limits: { ...sample().limits, maxStopSequences: 5 } },
      'limits.maxStopSequences',
      'gateway config: limits.maxStopSequences must be an integer from 0 to 4',
    ],
    [
      "an upload cap above OpenAI's 512 MB",
      { ...sample(), limits: { ...sample().limits, maxUploadBytes: 512 * 1024 * 1024 + 1 } },
      'limits.maxUploadBytes',
      'gateway config: limits.maxUploadBytes must be an integer from 1024 to 536870912',
    ],
    [
      'an audio input price without an audio output price',
      {
        ...sample(),
        models: { 'gpt-4o-mini': { inputUsdPer1M: 0.15, outputUsdPer1M: 0.6, audioInputUsdPer1M: 10 } },
      },
      'models.gpt-4o-mini',
      'gateway config: models.gpt-4o-mini must set both audioInputUsdPer1M and audioOutputUsdPer1M, or neither',
    ],
    [
      'a fractional fileTokens',
      {
        ...sample(),
        models: { 'gpt-4o-mini': { inputUsdPer1M: 0.15, outputUsdPer1M: 0.6, fileTokens: 2.5 } },
      },
      'models.gpt-4o-mini.fileTokens',
      'gateway config: models.gpt-4o-mini.fileTokens must be an integer',
    ],
    [
      'a reasoning effort OpenAI does not have',
      { ...sample(), clients: [{ ...sample().clients[0], reasoningEfforts: ['low', 'ultra'] }] },
      'clients[0].reasoningEfforts[1]',
      'gateway config: clients[0].reasoningEfforts[1] must be one of none, minimal, low, medium, high, xhigh, max',
    ],
    [
      'a long-context factor below 1',
      {
        ...sample(),
        models: {
          'gpt-4o-mini': {
            inputUsdPer1M: 0.15,
            outputUsdPer1M: 0.6,
            longContext: { aboveInputTokens: 272_000, inputFactor: 0.5, outputFactor: 1.5 },
          },
        },
      },
      'models.gpt-4o-mini.longContext.inputFactor',
      'gateway config: models.gpt-4o-mini.longContext.inputFactor must be a number from 1 to 9007199254740991',
    ],
    [
      'a tier factor for a tier not priced apart',
      {
        ...sample(),
        models: {
          'gpt-4o-mini': { inputUsdPer1M: 0.15, outputUsdPer1M: 0.6, serviceTierFactors: { scale: 2 } },
        },
      },
      'models.gpt-4o-mini.serviceTierFactors.scale',
      'gateway config: models.gpt-4o-mini.serviceTierFactors.scale is not a tier priced apart (flex, priority)',
    ],
    [
      'a priority factor below standard',
      {
        ...sample(),
        models: {
          'gpt-4o-mini': { inputUsdPer1M: 0.15, outputUsdPer1M: 0.6, serviceTierFactors: { priority: 0.5 } },
        },
      },
      'models.gpt-4o-mini.serviceTierFactors.priority',
      'gateway config: models.gpt-4o-mini.serviceTierFactors.priority must be a number from 1 to 10',
    ],
  ])('rejects %s, naming the field', (_case, doc, field, message) => {
    const err = errorOf(doc);
    expect(err.field).toBe(field);
    expect(err.message).toBe(message);
  });
});

describe('resolveModel', () => {
  const config = parseGatewayConfig(sample());

  it('resolves aliases and real names, and nothing else', () => {
    expect(resolveModel(config, 'default')).toBe('gpt-4o-mini');
    expect(resolveModel(config, 'gpt-4o-mini')).toBe('gpt-4o-mini');
    expect(resolveModel(config, 'gpt-5')).toBeUndefined();
    expect(resolveModel(config, 'toString')).toBeUndefined();
  });
});

describe('limits.maxUploadBytes', () => {
  it("is absent by default (the gateway uses OpenAI's 512 MB), and kept when set", () => {
    expect(parseGatewayConfig(sample()).limits.maxUploadBytes).toBeUndefined();
    const limits = { ...sample().limits, maxUploadBytes: 1 << 20 };
    expect(parseGatewayConfig({ ...sample(), limits }).limits.maxUploadBytes).toBe(1 << 20);
  });
});

describe('clients[].keys', () => {
  const withKeys = (client: Record<string, unknown>, more: Record<string, unknown>[] = []) => ({
    ...sample(),
    clients: [{ ...sample().clients[0], ...client }, ...more],
  });
  const b = 'b'.repeat(64);
  const c = 'c'.repeat(64);

  it('keeps a document with keySha256 only as it was (no keys field)', () => {
    const client = parseGatewayConfig(sample()).clients[0];
    expect(client.keySha256).toBe('a'.repeat(64));
    expect(client.keys).toBeUndefined();
  });

  it('accepts keys instead of keySha256; the first is also keySha256', () => {
    const { keySha256: _omitted, ...client } = sample().clients[0];
    const doc = {
      ...sample(),
      clients: [{ ...client, keys: [{ keySha256: b }, { keySha256: c, expiresAt: '2026-12-31T00:00:00Z' }] }],
    };
    const parsed = parseGatewayConfig(doc).clients[0];
    expect(parsed.keySha256).toBe(b);
    expect(parsed.keys).toEqual([{ keySha256: b }, { keySha256: c, expiresAt: '2026-12-31T00:00:00Z' }]);
  });

  it('accepts keys beside keySha256: keySha256 is one more key that never expires', () => {
    const parsed = parseGatewayConfig(
      withKeys({ keys: [{ keySha256: b, expiresAt: '2026-12-31T23:59:59.5+02:00' }] }),
    ).clients[0];
    expect(parsed.keys).toEqual([
      { keySha256: 'a'.repeat(64) },
      { keySha256: b, expiresAt: '2026-12-31T23:59:59.5+02:00' },
    ]);
  });

  it.each([
    [
      'no key at all',
      { ...sample(), clients: [{ id: 'x', rpm: 1, tpm: 1, monthlyBudgetUsd: 1 }] },
      'clients[0].keySha256',
      'gateway config: clients[0].keySha256 must be a non-empty string',
    ],
    [
      'an empty keys array',
      withKeys({ keys: [] }),
      'clients[0].keys',
      'gateway config: clients[0].keys must be a non-empty array of { keySha256, expiresAt? }',
    ],
    [
      'a key that is not an object',
      withKeys({ keys: ['b'] }),
      'clients[0].keys[0]',
      'gateway config: clients[0].keys[0] must be an object',
    ],
    [
      'a key hash that is not a SHA-256',
      withKeys({ keys: [{ keySha256: 'xyz' }] }),
      'clients[0].keys[0].keySha256',
      'gateway config: clients[0].keys[0].keySha256 must be 64 lowercase hex characters (a SHA-256)',
    ],
    [
      'a key repeating keySha256',
      withKeys({ keys: [{ keySha256: 'a'.repeat(64) }] }),
      'clients[0].keys[0].keySha256',
      'gateway config: clients[0].keys[0].keySha256 repeats another client key',
    ],
    [
      "a key repeating another client's key",
      withKeys({ keys: [{ keySha256: b }] }, [
        { ...sample().clients[0], id: 'team-b', keySha256: c, keys: [{ keySha256: b }] },
      ]),
      'clients[1].keys[0].keySha256',
      'gateway config: clients[1].keys[0].keySha256 repeats another client key',
    ],
    [
      'an expiry without a time zone',
      withKeys({ keys: [{ keySha256: b, expiresAt: '2026-12-31T00:00:00' }] }),
      'clients[0].keys[0].expiresAt',
      'gateway config: clients[0].keys[0].expiresAt must be an ISO 8601 instant with a time zone, e.g. 2026-12-31T00:00:00Z',
    ],
    [
      'an expiry on a day the calendar does not have',
      withKeys({ keys: [{ keySha256: b, expiresAt: '2026-02-30T00:00:00Z' }] }),
      'clients[0].keys[0].expiresAt',
      'gateway config: clients[0].keys[0].expiresAt must be an ISO 8601 instant with a time zone, e.g. 2026-12-31T00:00:00Z',
    ],
    [
      'an expiry that is a number',
      withKeys({ keys: [{ keySha256: b, expiresAt: 1798675200000 }] }),
      'clients[0].keys[0].expiresAt',
      'gateway config: clients[0].keys[0].expiresAt must be a non-empty string',
    ],
  ])('refuses %s, naming the field', (_name, doc, field, message) => {
    const err = errorOf(doc);
    expect(err.field).toBe(field);
    expect(err.message).toBe(message);
  });
});
