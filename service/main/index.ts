/**
 * Gateway entry point (the container's `node index.js`): settings from the environment, then listen.
 * SIGTERM/SIGINT drain and exit 0; a bad setting or config exits 1 with a message naming it.
 */
import { Gateway } from './gateway';
import { SecretField } from '../../runtime/secret-fields';
import { LogSink } from '../telemetry/log-sink';
import { loadSettings, SettingsError } from './settings';
import { readSecretFieldLazily, secretKey, staticKey } from '../upstream/key';

async function main(): Promise<void> {
  const settings = loadSettings(process.env);
  const sink = new LogSink();
  let redisAuthToken: string | undefined;
  if (settings.redisAuthSecretArn) {
    try {
      redisAuthToken = await readSecretFieldLazily(settings.redisAuthSecretArn, SecretField.authToken);
    } catch (err) {
      // Without the token Redis refuses commands and the store's fallback policy applies; say so, once.
      sink.write(
        JSON.stringify({
          level: 50,
          time: Date.now(),
          msg: `redis auth token unavailable: ${(err as Error).message}`,
        }),
      );
    }
  }
  const { apiKey, apiKeySecretArn, redisAuthSecretArn: _secretArn, port, host, ...options } = settings;
  const gateway = await Gateway.create({
    ...options,
    upstreamKey: apiKeySecretArn ? secretKey(apiKeySecretArn) : staticKey(apiKey!),
    redisAuthToken,
    sink,
  });
  const url = await gateway.listen(port, host);
  gateway.app.log.info(
    {
      url,
      stage: settings.config.stage,
      store: settings.redisUrl ? 'redis' : 'memory',
      upstream: settings.openaiBaseUrl,
    },
    'gateway listening',
  );

  const stop = (signal: string) => {
    gateway.app.log.info({ signal }, 'draining');
    gateway
      .shutdown()
      .then(() => process.exit(0))
      .catch((err: Error) => {
        console.error(`gateway: shutdown failed: ${err.message}`);
        process.exit(1);
      });
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

main().catch((err: Error) => {
  console.error(
    err instanceof SettingsError
      ? `gateway: ${err.message}`
      : `gateway: failed to start: ${err.stack ?? err}`,
  );
  process.exit(1);
});
