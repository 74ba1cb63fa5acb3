/**
 * `npm run demo`: the gateway with the in-memory store in front of a built-in fake OpenAI upstream, so
 * anyone can try it with no OpenAI key and no AWS. Prints a demo key and curl lines.
 */
import { parseGatewayConfig } from '../../runtime/gateway-config';
import { startFakeOpenAI } from '../../test/support/fake-openai';
import { Gateway } from './gateway';
import { mintKey } from '../pipeline/authenticate';
import { LogSink } from '../telemetry/log-sink';
import { staticKey } from '../upstream/key';

async function main(): Promise<void> {
  const fake = await startFakeOpenAI({ chunks: 8, chunkDelayMs: 60, record: false });
  const { key, keySha256 } = mintKey();
  const config = parseGatewayConfig({
    stage: 'demo',
    clients: [{ id: 'demo-app', keySha256, rpm: 120, tpm: 100_000, monthlyBudgetUsd: 5 }],
    models: {
      'gpt-4o-mini': { inputUsdPer1M: 0.15, outputUsdPer1M: 0.6 },
      'text-embedding-3-small': { inputUsdPer1M: 0.02, outputUsdPer1M: 0 },
    },
    aliases: { default: 'gpt-4o-mini', embeddings: 'text-embedding-3-small' },
    limits: { maxTokens: 1024, defaultMaxTokens: 256, maxN: 2, maxStopSequences: 4, maxBodyBytes: 262_144 },
    budget: { monthlyUsd: 10, notifyAtPercent: 80 },
    cache: { ttlSeconds: 300 },
  });
  const port = Number(process.env.PORT ?? 8080);
  const host = process.env.HOST ?? '127.0.0.1';
  const gateway = await Gateway.create({
    config,
    openaiBaseUrl: fake.url,
    upstreamKey: staticKey('sk-fake-upstream'),
    sink: new LogSink(),
    logLevel: process.env.LOG_LEVEL ?? 'warn',
    metricsFlushMs: 60_000,
  });
  const url = await gateway.listen(port, host);
  const chat = (extra: string) =>
    `curl -s ${url}/chat/completions -H "Authorization: Bearer ${key}" -H "Content-Type: application/json" ` +
    `-d '{"model":"default","messages":[{"role":"user","content":"Say hello"}]${extra}}'`;
  process.stdout.write(
    [
      '',
      `Gateway demo on ${url} (fake upstream at ${fake.url}, in-memory store). Ctrl-C stops it.`,
      `Demo key: ${key}`,
      '',
      'Responses (add "stream":true for typed events):',
      `  curl -s ${url}/responses -H "Authorization: Bearer ${key}" -H "Content-Type: application/json" -d '{"model":"default","input":"Say hello"}'`,
      'Chat:',
      `  ${chat('')}`,
      'Stream (SSE):',
      `  ${chat(',"stream":true').replace('curl -s', 'curl -sN')}`,
      'Cached (temperature 0; the second call answers x-cache-status: HIT):',
      `  ${chat(',"temperature":0').replace('curl -s', 'curl -si')}`,
      'Models:',
      `  curl -s ${url}/models -H "Authorization: Bearer ${key}"`,
      'With the openai SDK: new OpenAI({ baseURL: "' + url + '", apiKey: "<demo key>" })',
      '',
    ].join('\n'),
  );
  const stop = () =>
    void gateway
      .shutdown()
      .then(() => fake.stop())
      .then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err: Error) => {
  console.error(`demo: ${err.message}`);
  process.exit(1);
});
