/**
 * Runs one Lambda handler locally: `npm run invoke -- <handler> [event.json] [--fake]`.
 *
 * Keys come from the environment instead of Secrets Manager: OPENAI_API_KEY (canary, batch) and
 * OPENAI_ADMIN_KEY (spend-reconciliation, key-rotation), with OPENAI_BASE_URL, OPENAI_ORGANIZATION,
 * OPENAI_PROJECT and CANARY_MODEL as on Lambda. `--fake` starts the fake OpenAI upstream (with the admin,
 * costs, files and batches endpoints) on 127.0.0.1 and points the handler at it, keys and all.
 *
 * What needs AWS: spend-reconciliation reads the gateway's metered spend from CloudWatch (without
 * credentials it logs that and publishes ActualSpendUsd only); key-rotation works on a real secret;
 * batch reads S3 and DynamoDB (BATCH_BUCKET, BATCH_JOBS_TABLE, GATEWAY_CONFIG_JSON).
 */
import { readFileSync } from 'node:fs';
import { HANDLER_NAMES, type HandlerName } from '../runtime/handler-env';

const DEFAULT_EVENTS: Record<HandlerName, unknown> = {
  canary: { source: 'aws.events', 'detail-type': 'Scheduled Event', detail: {} },
  'spend-reconciliation': { source: 'aws.events', 'detail-type': 'Scheduled Event', detail: {} },
  'key-rotation': undefined,
  batch: { action: 'poll' },
};

const USAGE = `usage: npm run invoke -- <${HANDLER_NAMES.join('|')}> [event.json] [--fake]`;

async function main(argv: readonly string[]): Promise<number> {
  const useFake = argv.includes('--fake');
  const [name, eventPath] = argv.filter((a) => !a.startsWith('--'));
  if (!HANDLER_NAMES.includes(name as HandlerName)) {
    console.error(USAGE);
    return 2;
  }
  const handlerName = name as HandlerName;
  const event: unknown = eventPath
    ? JSON.parse(readFileSync(eventPath, 'utf8'))
    : DEFAULT_EVENTS[handlerName];
  if (event === undefined) {
    console.error(
      `${handlerName} needs an event file, e.g. {"Step":"createSecret","SecretId":"<arn>","ClientRequestToken":"<uuid>"}`,
    );
    return 2;
  }

  process.env.STAGE ??= 'local';
  process.env.POWERTOOLS_SERVICE_NAME ??= handlerName;
  process.env.AWS_REGION ??= 'us-east-1';
  // Without AWS credentials, fail fast instead of waiting on the EC2 metadata endpoint.
  if (!process.env.AWS_ACCESS_KEY_ID && !process.env.AWS_PROFILE)
    process.env.AWS_EC2_METADATA_DISABLED ??= 'true';

  const stopFake = useFake ? await startFake() : undefined;
  try {
    const needs =
      handlerName === 'spend-reconciliation' || handlerName === 'key-rotation'
        ? 'OPENAI_ADMIN_KEY'
        : 'OPENAI_API_KEY';
    const arnVar = needs === 'OPENAI_ADMIN_KEY' ? 'OPENAI_ADMIN_KEY_SECRET_ARN' : 'OPENAI_API_KEY_SECRET_ARN';
    if (!process.env[needs] && !process.env[arnVar])
      console.error(`note: neither ${needs} nor ${arnVar} is set`);
    const module = (await import(`../lambda/${handlerName}/index`)) as {
      handler: (event: unknown) => Promise<unknown>;
    };
    const result = await module.handler(event);
    console.log(JSON.stringify({ handler: handlerName, result: result ?? null }, null, 2));
    return 0;
  } catch (err) {
    console.error(`${handlerName} threw: ${(err as Error)?.name}: ${(err as Error)?.message}`);
    return 1;
  } finally {
    await stopFake?.();
  }
}

/** Starts the fake upstream with a little month-to-date cost, and points the handlers at it. */
async function startFake(): Promise<() => Promise<void>> {
  const { FakeOpenAI } = await import('../test/support/fake-openai');
  const { FakeOpenAIAdmin } = await import('../test/support/fake-openai-admin');
  const fake = new FakeOpenAI();
  const admin = new FakeOpenAIAdmin(fake);
  const { url } = await fake.start();
  const project = (process.env.OPENAI_PROJECT ??= 'proj_local');
  const now = new Date();
  const monthStart = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1) / 1000;
  admin.setDailyCosts(
    project,
    monthStart,
    Array.from({ length: now.getUTCDate() }, (_, i) => 0.25 + i * 0.01),
  );
  Object.assign(process.env, {
    OPENAI_BASE_URL: url,
    OPENAI_API_KEY: 'sk-local-fake',
    OPENAI_ADMIN_KEY: admin.adminKey,
    CANARY_MODEL: process.env.CANARY_MODEL ?? 'gpt-4o-mini',
  });
  console.error(`fake OpenAI upstream on ${url}`);
  return () => fake.stop();
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
