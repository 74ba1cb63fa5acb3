/**
 * Budget overshoot under concurrency on the media endpoints: many calls at once against a budget that
 * fits three worst cases never bill past it, on the memory store and on Redis shared by two replicas.
 * Spend is what the fake upstream billed.
 */
import { createHash } from 'node:crypto';
import { parseGatewayConfig } from '../../../runtime/gateway-config';
import { worstCaseCostNanos } from '../../../runtime/pricing';
import { createRequestPolicy, type EndpointSpec } from '../../../service/endpoints';
import { speech, transcriptions } from '../../../service/endpoints/audio';
import { imageGenerations } from '../../../service/endpoints/images';
import { MultipartBody } from '../../../service/http/multipart';
import { priceOf } from '../../../service/pipeline/metering';
import { FakeOpenAI } from '../../support/fake-openai';
import { eventually } from '../../support/eventually';
import { GatewayHarness, HEALTHY_REDIS_STORE, KEYS, testConfigDocument } from '../../support/gateway-harness';
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

/** 64 KiB of audio: 4.1 s at the fake's 16,000 bytes a second, which the stage below takes as its floor. */
const AUDIO = Buffer.alloc(64 * 1024, 1);
const AUDIO_LIMITS = { minAudioBytesPerSecond: 16_000 };

function transcriptionWorstNanos(): number {
  const stage = parseGatewayConfig(testConfigDocument({ models: MEDIA_MODELS, limits: AUDIO_LIMITS }));
  const body = new MultipartBody(new Map([['model', ['gpt-4o-transcribe']]]), [
    { field: 'file', filename: 'a.mp3', contentType: 'audio/mpeg', data: AUDIO },
  ]);
  const prepared = transcriptions.prepare({
    policy: createRequestPolicy(stage),
    client: { id: 'app' },
    body,
  });
  return worstCaseCostNanos(priceOf(stage.models, prepared), prepared);
}

function transcribe(gateway: GatewayHarness): Promise<number> {
  const form = new FormData();
  form.append('model', 'gpt-4o-transcribe');
  form.append('file', new Blob([AUDIO], { type: 'audio/mpeg' }), 'a.mp3');
  return fetch(`${gateway.url}/audio/transcriptions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEYS.app}` },
    body: form,
  }).then((r) => r.status);
}

interface Overshoot {
  /** A budget of three worst cases. */
  readonly budgetUsd: number;
  readonly replicas: number;
  readonly storeOptions: Record<string, unknown>;
  readonly limits?: Record<string, unknown>;
  /** Sends one call to a gateway, resolving to its status. */
  send(gateway: GatewayHarness): Promise<number>;
}

/** Twenty calls at once across the replicas: the fake bills no more than the budget. */
async function expectNoOvershoot({
  budgetUsd,
  replicas,
  storeOptions,
  limits,
  send,
}: Overshoot): Promise<void> {
  const fake = new FakeOpenAI({ delayMs: 100 });
  await fake.start();
  const stageConfig = {
    stage: `media-overshoot-${process.pid}-${++stages}`,
    models: MEDIA_MODELS,
    ...(limits ? { limits } : {}),
    budget: { monthlyUsd: budgetUsd, notifyAtPercent: 80 },
    store: HEALTHY_REDIS_STORE,
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
      gateways.push(
        await GatewayHarness.start({ ...storeOptions, fake, config: stageConfig, gateway: { replicas } }),
      );
    const statuses = await Promise.all(Array.from({ length: 20 }, (_, i) => send(gateways[i % replicas])));
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
}

describe.each([
  ['the memory store, one replica', 1, () => ({})],
  ['Redis shared by two replicas', 2, () => ({ redisUrl: redis.url })],
])('media budget overshoot on %s', (_name, replicas, storeOptions) => {
  it.each(CALLS)('bills no more than the budget with %s on %s', async (_model, path, spec, body) => {
    await expectNoOvershoot({
      budgetUsd: (3 * worstNanos(spec, body)) / 1e9,
      replicas,
      storeOptions: storeOptions(),
      send: (gateway) => gateway.post(path, JSON.stringify(body)).then((r) => r.status),
    });
  });

  it('bills no more than the budget with gpt-4o-transcribe uploads on /audio/transcriptions', async () => {
    await expectNoOvershoot({
      budgetUsd: (3 * transcriptionWorstNanos()) / 1e9,
      replicas,
      storeOptions: storeOptions(),
      limits: AUDIO_LIMITS,
      send: transcribe,
    });
  });
});
