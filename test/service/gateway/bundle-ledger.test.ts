/**
 * The bundle as the container runs it, under this machine's Node and the container's Node 24: a real
 * redis-server and a DynamoDB-compatible ledger (dynalite) reached only through the environment the
 * task definition sets (SPEND_LEDGER_TABLE, the SDK's AWS_ENDPOINT_URL_DYNAMODB), and each ledger
 * failure reported on the stage's metric line.
 */
import { DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import Redis from 'ioredis';
import OpenAI from 'openai';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GatewayMetric } from '../../../runtime/metric-names';
import { costNanos } from '../../../runtime/pricing';
import { clientScope } from '../../../runtime/spend-ledger-schema';
import { DynaliteServer } from '../../support/dynalite-server';
import { eventually } from '../../support/eventually';
import { FakeOpenAI } from '../../support/fake-openai';
import { chatBody, KEYS, testConfigDocument, UPSTREAM_KEY } from '../../support/gateway-harness';
import {
  listeningUrl,
  NODE_BINARIES,
  runGateway,
  stageMetricSum,
  type GatewayProcess,
} from '../../support/gateway-process';
import { RedisServer } from '../../support/redis-server';

jest.setTimeout(60_000);

const PRICE = { inputUsdPer1M: 0.15, outputUsdPer1M: 0.6 };

let redis: RedisServer;
let inspect: Redis;
let dynamo: DynaliteServer;
let fake: FakeOpenAI;
let dir: string;
const children: GatewayProcess[] = [];
beforeAll(async () => {
  [redis, dynamo] = await Promise.all([RedisServer.start(), DynaliteServer.start()]);
  inspect = new Redis(redis.url);
  fake = new FakeOpenAI();
  await fake.start();
  dir = mkdtempSync(join(tmpdir(), 'gateway-ledger-'));
});
afterAll(async () => {
  for (const c of children) if (c.process.exitCode === null) c.process.kill('SIGKILL');
  inspect.disconnect();
  await Promise.all([redis.stop(), dynamo.stop(), fake.stop()]);
});

/** The client's ledger spend over every month in the table (the bundle runs on today's clock). */
const ledgerSpend = (table: string) => dynamo.ledgerScopeTotal(table, clientScope('app'));

describe.each(NODE_BINARIES)('gateway bundle with the spend ledger (%s)', (_name, node) => {
  it('writes what upstream billed to the table; reports failed writes, failed reads and fallback admissions', async () => {
    const stage = `bundle${children.length}`;
    const table = `ledger-${stage}`;
    await dynamo.createLedgerTable(table);
    const config = join(dir, `${stage}.json`);
    writeFileSync(config, JSON.stringify(testConfigDocument({ stage })));
    const c = runGateway(
      {
        OPENAI_BASE_URL: fake.url,
        OPENAI_API_KEY: UPSTREAM_KEY,
        GATEWAY_CONFIG: config,
        REDIS_URL: redis.url,
        SPEND_LEDGER_TABLE: table,
        LEDGER_FLUSH_MS: '100',
        METRICS_FLUSH_MS: '100',
        AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
        AWS_MAX_ATTEMPTS: '1',
      },
      node,
    );
    children.push(c);
    const sdk = new OpenAI({ baseURL: await listeningUrl(c), apiKey: KEYS.app, maxRetries: 0 });
    const from = fake.billed.length;
    const billed = () => fake.billed.slice(from).reduce((sum, b) => sum + costNanos(PRICE, b.usage), 0);

    await sdk.chat.completions.create(chatBody('to the ledger'));
    await eventually(async () => (await ledgerSpend(table)) === billed() && billed() > 0);

    // The table goes away: Redis, already seeded, still admits; the ledger's writes fail and are counted.
    await dynamo.client().send(new DeleteTableCommand({ TableName: table }));
    await sdk.chat.completions.create(chatBody('ledger gone'));
    await eventually(() => stageMetricSum(c.stdout, GatewayMetric.ledgerWriteErrors) > 0);

    // Redis comes back empty and cannot be seeded: the shared fallback admits on the spend last seen.
    await inspect.flushall();
    await sdk.chat.completions.create(chatBody('fallback'));
    await eventually(
      () =>
        stageMetricSum(c.stdout, GatewayMetric.ledgerReadErrors) > 0 &&
        stageMetricSum(c.stdout, GatewayMetric.fallbackAdmissions) > 0,
    );
    expect(fake.billed.length - from).toBe(3);

    c.process.kill('SIGTERM');
    expect(await c.exit).toBe(0);
    // Nothing on stderr but, under this machine's Node 20, the AWS SDK's notice that it will need 22.
    const stderr = c.stderr.replace(
      /^\(node:\d+\) Warning: NodeVersionSupportWarning:[\s\S]*?--trace-warnings[^\n]*\n/,
      '',
    );
    expect(stderr).toBe('');
    // On-call sees why, not just how many: one warn line per failing operation, with DynamoDB's reason.
    const warnings = c.stdout.split('\n').filter((l) => l.includes('"spend ledger failing"'));
    expect(warnings.map((l) => (JSON.parse(l) as { operation: string }).operation).sort()).toEqual([
      'ledgerRead',
      'ledgerWrite',
    ]);
    expect(warnings.join('\n')).toContain('ResourceNotFoundException');
    for (const secret of [KEYS.app, UPSTREAM_KEY, 'test']) expect(c.stdout).not.toContain(`"${secret}"`);
  });
});
