/**
 * A Redis failover as ElastiCache performs it, through the whole gateway: the replica is promoted, the
 * old primary demoted to a replica of it, and the endpoint re-pointed while the gateway's socket to the
 * old primary stays open. The old node answers every admission `READONLY`; the gateway must reconnect
 * so that limits and budgets are enforced on the new primary within moments, not fall back for good.
 */
import Redis from 'ioredis';
import { createHash } from 'node:crypto';
import { parseGatewayConfig } from '../../../runtime/gateway-config';
import { costNanos } from '../../../runtime/pricing';
import { createStore } from '../../../service/store';
import { eventually } from '../../support/eventually';
import { FakeOpenAI } from '../../support/fake-openai';
import { flowingClock } from '../../support/clock';
import { chatBody, GatewayHarness, KEYS, testConfigDocument } from '../../support/gateway-harness';
import { RedisServer } from '../../support/redis-server';
import { TcpForwarder } from '../../support/tcp-forwarder';

/** The client's limit: requests per minute. */
const RPM = 20;
/** Requests sent before the switch (half the limit), and after it. */
const BEFORE_SWITCH = 10;
const AFTER_SWITCH = 60;
/** Pause between requests: one client hammering at 40 requests a second, far above its limit. */
const PACE_MS = 25;
/** Stated bound on admissions answered by the fallback across the switch (the reconnection window). */
const MAX_FALLBACK_ADMISSIONS = 10;
const PRICE = { inputUsdPer1M: 0.15, outputUsdPer1M: 0.6 };
/** The month of `flowingClock` (June 2026), in which the scripts count spend. */
const SPEND_KEY = 'oai:test:spend:2026-06:c:app';

interface Outcome {
  readonly status: number;
  /** The admission was answered by the store's fallback, not by Redis. */
  readonly fallback: boolean;
  /** Cost of what upstream billed for it, nanos. */
  readonly billedNanos: number;
  /** Time since the switch, ms (NaN before it). */
  readonly atMs: number;
}

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function replicationUp(node: Redis): Promise<boolean> {
  return (await node.info('replication')).includes('master_link_status:up');
}

describe('a Redis failover behind a re-pointed endpoint', () => {
  let primary: RedisServer;
  let replica: RedisServer;
  let endpoint: TcpForwarder;
  let fake: FakeOpenAI;
  let h: GatewayHarness;
  let admin: { primary: Redis; replica: Redis };
  /** Admissions answered by the fallback so far (each one reports exactly one `admit` error). */
  let fallbackAdmissions = 0;

  beforeAll(async () => {
    primary = await RedisServer.start();
    replica = await RedisServer.start({ replicaOfPort: primary.port });
    admin = { primary: new Redis(primary.url), replica: new Redis(replica.url) };
    await eventually(() => replicationUp(admin.replica), 20_000); // a loaded machine syncs a replica slowly
    endpoint = await TcpForwarder.start({ port: primary.port });
    fake = new FakeOpenAI();
    await fake.start();
    const configDocument = testConfigDocument({
      clients: [{ id: 'app', keySha256: sha(KEYS.app), rpm: RPM, tpm: 1_000_000, monthlyBudgetUsd: 1 }],
    });
    const store = createStore({
      config: parseGatewayConfig(configDocument),
      redisUrl: endpoint.url,
      circuit: { cooldownMs: 200 },
      now: flowingClock,
      onError: (operation) => {
        if (operation === 'admit') fallbackAdmissions++;
      },
    });
    h = await GatewayHarness.start({ config: configDocument, store, fake });
  });
  afterAll(async () => {
    await h?.stop();
    await fake?.stop();
    await endpoint?.stop();
    admin?.primary.disconnect();
    admin?.replica.disconnect();
    await Promise.all([primary?.stop(), replica?.stop()]);
  });

  /** One request, alone, so that what the fallback and upstream did is its own. */
  async function send(index: number, switchedAt: number): Promise<Outcome> {
    const [fallbackBefore, billedBefore] = [fallbackAdmissions, fake.billed.length];
    const status = await h
      .client(KEYS.app, { timeout: 5_000 })
      .chat.completions.create(chatBody(`request ${index}`, { temperature: 0 }))
      .then(
        () => 200,
        (error: { status?: number }) => error.status ?? 0,
      );
    return {
      status,
      fallback: fallbackAdmissions > fallbackBefore,
      billedNanos: fake.billed.slice(billedBefore).reduce((sum, b) => sum + costNanos(PRICE, b.usage), 0),
      atMs: performance.now() - switchedAt,
    };
  }

  it('enforces the limit and records spend on the new primary within moments of the switch', async () => {
    const runStartedAt = performance.now();
    const outcomes: Outcome[] = [];
    for (let i = 0; i < BEFORE_SWITCH; i++) outcomes.push(await send(i, Number.NaN));
    const spentBefore = outcomes.reduce((sum, o) => sum + o.billedNanos, 0);
    // Settled on the primary and replicated before the switch.
    await eventually(async () => Number(await admin.replica.get(SPEND_KEY)) === spentBefore);

    await admin.replica.replicaof('NO', 'ONE');
    await admin.primary.replicaof('127.0.0.1', replica.port);
    endpoint.pointAt({ port: replica.port });
    const switchedAt = performance.now();
    // As in an ElastiCache failover, the gateway's connection to the demoted node is still open.
    expect(endpoint.openByTargetPort.get(primary.port)).toBe(1);
    for (let i = 0; i < AFTER_SWITCH; i++) {
      outcomes.push(await send(BEFORE_SWITCH + i, switchedAt));
      await sleep(PACE_MS);
    }
    const runMs = performance.now() - runStartedAt;

    const before = outcomes.slice(0, BEFORE_SWITCH);
    const after = outcomes.slice(BEFORE_SWITCH);
    const firstFromRedis = after.findIndex((o) => !o.fallback);
    const fallbacks = after.filter((o) => o.fallback).length;
    // The measurement, for the record (also when an assertion below fails).
    process.stdout.write(
      `failover: ${fake.billed.length} admitted for ${RPM}/min over ${Math.round(runMs)} ms; ` +
        `${fallbacks} of ${AFTER_SWITCH} admissions after the switch answered by the fallback; ` +
        (firstFromRedis < 0
          ? 'the new primary never answered\n'
          : `the new primary answered from ${Math.round(after[firstFromRedis]!.atMs)} ms after the switch ` +
            `(request ${firstFromRedis + 1} after it)\n`),
    );
    expect(before.every((o) => o.status === 200 && !o.fallback)).toBe(true);
    // The gateway reconnected through the endpoint, to the new primary.
    expect(endpoint.connectionsByTargetPort.get(replica.port)).toBeGreaterThanOrEqual(1);

    // The fallback answered only a short window right after the switch; once Redis answers again, it
    // answers every admission.
    expect(firstFromRedis).toBeGreaterThanOrEqual(0);
    expect(after.slice(firstFromRedis).filter((o) => o.fallback)).toEqual([]);
    expect(fallbacks).toBeLessThanOrEqual(MAX_FALLBACK_ADMISSIONS);

    // Redis admitted at most the limit across the switch (plus what its bucket refilled during the run),
    // since the new primary held the old one's counters; the fallback adds at most its window.
    const admittedByRedis = outcomes.filter((o) => o.status === 200 && !o.fallback).length;
    const refilled = Math.ceil(runMs / (60_000 / RPM));
    expect(admittedByRedis).toBeLessThanOrEqual(RPM + refilled);
    expect(fake.billed.length).toBeLessThanOrEqual(RPM + refilled + MAX_FALLBACK_ADMISSIONS);
    expect(after.filter((o) => o.status === 429).length).toBeGreaterThan(0);

    // Every call is settled, to what upstream billed, on the new primary: those Redis admitted, and
    // those the fallback admitted in the switch's window, whose spend is added once Redis answers.
    const billedThroughRedis = outcomes.filter((o) => !o.fallback).reduce((sum, o) => sum + o.billedNanos, 0);
    const billedInAll = outcomes.reduce((sum, o) => sum + o.billedNanos, 0);
    expect(billedThroughRedis).toBeGreaterThan(spentBefore);
    await eventually(async () => Number(await admin.replica.get(SPEND_KEY)) === billedInAll);
  });
});
