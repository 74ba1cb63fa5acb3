/**
 * Budget overshoot under concurrency on the media endpoints: many calls at once against a budget that
 * fits three worst cases never bill past it, on the memory store and on Redis shared by two replicas.
 * Spend is what the fake upstream billed.
 */
import { createHash } from 'node:crypto';
import { parseGatewayConfig } from '../../../runtime/gateway-config';
import { worstCaseCostNanos } from '../../../runtime/pricing';
import { createRequestPolicy, type EndpointSpec } from '../../../service/endpoints';
import { speech } from '../../../service/endpoints/audio';
import { imageGenerations } from '../../../service/endpoints/images';
import { priceOf } from '../../../service/pipeline/metering';
import { FakeOpenAI } from '../../support/fake-openai';
import { eventually } from '../../support/eventually';
import { GatewayHarness, KEYS, testConfigDocument } from '../../support/gateway-harness';
import { billedNanos, MEDIA_MODELS } from '../../support/media-config';
import { RedisServer } from '../../support/redis-server';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

/** Each call bills its whole worst case: the largest image at the highest quality, or the dearest per-image price. */
const CALLS: ReadonlyArray<readonly [string, string, EndpointSpec, Record<string, unknown>]> = [
  [
    'gpt-image-1',
    '/images/generations',
    imageGenerations,
    { model: 'gpt-image-1', prompt: 'A lighthouse', quality: 'high', size: '1024x1536' },
  ],
  [
    'dall-e-3',
    '/images/generations',
    imageGenerations,
    { model: 'dall-e-3', prompt: 'A castle', quality: 'hd', size: '1792x1024' },
  ],
  ['tts-1', '/audio/speech', speech, { model: 'tts-1', voice: 'alloy', input: 'Hello. '.repeat(50) }],
  [
    'gpt-4o-mini-tts',
    '/audio/speech',
    speech,
    { model: 'gpt-4o-mini-tts', voice: 'alloy', input: 'Hello. '.repeat(50), speed: 0.25 },
  ],
];

const config = parseGatewayConfig(testConfigDocument({ models: MEDIA_MODELS }));

/** The call's worst case as the gateway reserves it. */
function worstNanos(spec: EndpointSpec, body: Record<string, unknown>): number {
  const prepared = spec.prepare({ policy: createRequestPolicy(config), client: { id: 'app' }, body });
  return worstCaseCostNanos(priceOf(config.models, prepared), prepared);
}

let redis: RedisServer;
let stages = 0;
beforeAll(async () => {
  redis = await RedisServer.start();
});
afterAll(() => redis?.stop());

describe.each([
  ['the memory store, one replica', 1, () => ({})],
  ['Redis shared by two replicas', 2, () => ({ redisUrl: redis.url })],
])('media budget overshoot on %s', (_name, replicas, storeOptions) => {
  it.each(CALLS)('bills no more than the budget with %s on %s', async (_model, path, spec, body) => {
    const budgetUsd = (3 * worstNanos(spec, body)) / 1e9;
    const fake = new FakeOpenAI({ delayMs: 100 });
    await fake.start();
    const stageConfig = {
      stage: `media-overshoot-${process.pid}-${++stages}`,
      models: MEDIA_MODELS,
      budget: { monthlyUsd: budgetUsd, notifyAtPercent: 80 },
      clients: [
        {
          id: 'app',
          keySha256: sha(KEYS.app),
          rpm: 1000,
          tpm: 1_000_000,
          monthlyBudgetUsd: budgetUsd,
          apiFamilies: ['images', 'audio'],
        },
      ],
    };
    const gateways: GatewayHarness[] = [];
    try {
      for (let i = 0; i < replicas; i++)
        gateways.push(await GatewayHarness.start({ ...storeOptions(), fake, config: stageConfig }));
      const statuses = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          gateways[i % replicas].post(path, JSON.stringify(body)).then((r) => r.status),
        ),
      );
      const billed = () => billedNanos(fake.billed);
      await eventually(async () => ((await gateways[0].store.monthToDateSpendNanos()) ?? 0) >= billed());
      expect(fake.billed.length).toBeGreaterThanOrEqual(3);
      expect(billed()).toBeLessThanOrEqual(budgetUsd * 1e9);
      expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(20 - fake.billed.length);
      expect(statuses.every((s) => s === 200 || s === 429)).toBe(true);
    } finally {
      await Promise.all(gateways.map((g) => g.stop()));
      await fake.stop();
    }
  });
});
