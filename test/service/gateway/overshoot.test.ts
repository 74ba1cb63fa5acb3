/**
 * Budget overshoot under concurrency on the Responses API and legacy completions: many calls at once
 * against a budget that fits three worst cases never bill past it, on the memory store and on Redis
 * shared by two replicas. Spend is what the fake upstream billed.
 */
import { createHash } from 'node:crypto';
import { parseGatewayConfig } from '../../../runtime/gateway-config';
import { costNanos, worstCaseCostNanos } from '../../../runtime/pricing';
import { createRequestPolicy, type EndpointSpec } from '../../../service/endpoints';
import { completions } from '../../../service/endpoints/completions';
import { responses } from '../../../service/endpoints/responses';
import { FakeOpenAI } from '../../support/fake-openai';
import { eventually } from '../../support/eventually';
import { GatewayHarness, HEALTHY_REDIS_STORE, KEYS, testConfigDocument } from '../../support/gateway-harness';
import { RedisServer } from '../../support/redis-server';

const MINI = { inputUsdPer1M: 0.15, outputUsdPer1M: 0.6 };
const sha = (s: string) => createHash('sha256').update(s).digest('hex');

const CALLS: ReadonlyArray<readonly [string, EndpointSpec, Record<string, unknown>]> = [
  ['/v1/responses', responses, { model: 'gpt-4o-mini', input: 'Say hello', instructions: 'Be brief.' }],
  ['/v1/completions', completions, { model: 'gpt-4o-mini', prompt: ['Say hello', 'Say bye'], n: 2 }],
];

/** The call's worst case as the gateway reserves it. */
function worstNanos(spec: EndpointSpec, body: Record<string, unknown>): number {
  const policy = createRequestPolicy(parseGatewayConfig(testConfigDocument()));
  return worstCaseCostNanos(MINI, spec.prepare({ policy, client: { id: 'app' }, body }));
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
])('budget overshoot on %s', (_name, replicas, storeOptions) => {
  it.each(CALLS)('bills no more than the budget on %s', async (route, spec, body) => {
    const budgetUsd = (3 * worstNanos(spec, body)) / 1e9;
    // Every candidate runs to the output cap: each call bills its whole worst case of output.
    const fake = new FakeOpenAI({ delayMs: 100, text: 'word '.repeat(1_000) });
    await fake.start();
    const config = {
      stage: `overshoot-${process.pid}-${++stages}`,
      budget: { monthlyUsd: budgetUsd, notifyAtPercent: 80 },
      store: HEALTHY_REDIS_STORE,
      clients: [
        { id: 'app', keySha256: sha(KEYS.app), rpm: 1000, tpm: 1_000_000, monthlyBudgetUsd: budgetUsd },
      ],
    };
    const gateways: GatewayHarness[] = [];
    try {
      for (let i = 0; i < replicas; i++)
        gateways.push(await GatewayHarness.start({ ...storeOptions(), fake, config, gateway: { replicas } }));
      const statuses = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          gateways[i % replicas].post(route.slice(3), JSON.stringify(body)).then((r) => r.status),
        ),
      );
      const billed = () => fake.billed.reduce((sum, b) => sum + costNanos(MINI, b.usage), 0);
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
