/**
 * Gateway entry point (the container's `node index.js`): settings from the environment, the config's
 * first version (AppConfig when set, else the file or JSON), then listen, and keep the config live
 * (AppConfig polls, or the watched file; SIGHUP reads the source now). SIGTERM/SIGINT drain and exit 0;
 * a bad setting or config at start exits 1 with a message naming it.
 */
import { Gateway } from './gateway';
import { APPCONFIG_SOURCE, AppConfigSource } from './appconfig-source';
import { FileConfigSource } from './file-config-source';
import { parseConfigText, type Settings } from './settings';
import { SecretField } from '../../runtime/secret-fields';
import { LogSink } from '../telemetry/log-sink';
import { loadSettings, SettingsError } from './settings';
import { documentVersion, type ConfigDocument } from './live-config';
import { readSecretFieldLazily, secretKey, staticKey } from '../upstream/key';

/**
 * SIGHUP's handler from the first line on: Node's default for SIGHUP ends the process, so one sent
 * during start-up (a deploy tool that signals as soon as it wrote the file) would kill the gateway.
 * Until the config source is live, a SIGHUP is held and run once it is.
 */
function holdSighupUntilLive(): (onSighup: () => void) => void {
  let held = false;
  let handle = (): void => {
    held = true;
  };
  process.on('SIGHUP', () => handle());
  return (onSighup) => {
    handle = onSighup;
    if (held) onSighup();
  };
}

async function main(): Promise<void> {
  const sighupWhenLive = holdSighupUntilLive();
  const settings = loadSettings(process.env);
  const sink = new LogSink();
  const redisAuthToken = await readRedisAuthToken(settings, sink);
  const appConfig = settings.appConfig ? new AppConfigSource(settings.appConfig) : undefined;
  const initial = await initialConfig(settings, appConfig, sink);
  const {
    apiKey,
    apiKeySecretArn,
    redisAuthSecretArn: _secretArn,
    port,
    host,
    appConfig: _appConfig,
    configPath,
    configCheckMs,
    ...options
  } = settings;
  const gateway = await Gateway.create({
    ...options,
    ...initial,
    upstreamKey: apiKeySecretArn ? secretKey(apiKeySecretArn) : staticKey(apiKey!),
    redisAuthToken,
    sink,
  });
  const url = await gateway.listen(port, host);
  gateway.app.log.info(
    {
      url,
      stage: initial.config.stage,
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
  const reloadNow = keepLive(gateway, appConfig, configPath, configCheckMs);
  sighupWhenLive(() => {
    gateway.app.log.info({ signal: 'SIGHUP' }, 'reading the config source');
    void reloadNow();
  });
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

/** The Redis AUTH token, if the settings name its secret. */
async function readRedisAuthToken(settings: Settings, sink: LogSink): Promise<string | undefined> {
  if (!settings.redisAuthSecretArn) return undefined;
  try {
    return await readSecretFieldLazily(settings.redisAuthSecretArn, SecretField.authToken);
  } catch (err) {
    // Without the token Redis refuses commands and the store's fallback policy applies; say so, once.
    sink.write(
      JSON.stringify({
        level: 50,
        time: Date.now(),
        msg: `redis auth token unavailable: ${(err as Error).message}`,
      }),
    );
    return undefined;
  }
}

/**
 * The config to start with: AppConfig's current version when AppConfig is set (the file or JSON only
 * if AppConfig cannot be read then), else the file or JSON the settings read.
 */
async function initialConfig(
  settings: Settings,
  appConfig: AppConfigSource | undefined,
  sink: LogSink,
): Promise<Required<Pick<Settings, 'config' | 'configVersion' | 'configSource'>>> {
  const fromSettings = () => ({
    config: settings.config!,
    configVersion: settings.configVersion!,
    configSource: settings.configSource!,
  });
  if (appConfig === undefined) return fromSettings();
  try {
    const document = await appConfig.poll();
    if (document === undefined) throw new Error('AppConfig returned no configuration');
    return {
      config: parseConfigText(document),
      configVersion: documentVersion(document),
      configSource: APPCONFIG_SOURCE,
    };
  } catch (err) {
    if (settings.config === undefined) {
      throw new SettingsError(`cannot read the gateway config from AWS AppConfig: ${(err as Error).message}`);
    }
    sink.write(
      JSON.stringify({
        level: 'warn',
        time: Date.now(),
        msg: `AppConfig unreadable at start (${(err as Error).message}); starting on ${settings.configSource}`,
      }),
    );
    return fromSettings();
  }
}

/** Starts the live source and returns what SIGHUP runs: AppConfig polls, or the watched file. */
function keepLive(
  gateway: Gateway,
  appConfig: AppConfigSource | undefined,
  configPath: string | undefined,
  checkMs: number,
): () => Promise<void> {
  const apply = (document: ConfigDocument) => void gateway.reload(document);
  if (appConfig !== undefined) {
    const sink = {
      onDocument: apply,
      onError: (err: unknown) => gateway.configSourceFailed(APPCONFIG_SOURCE, err),
    };
    appConfig.start(sink);
    return () => appConfig.pollInto(sink);
  }
  if (configPath === undefined) return async () => undefined;
  const file = new FileConfigSource({
    path: configPath,
    checkMs,
    onDocument: apply,
    onError: (err) => gateway.configSourceFailed(configPath, err),
  });
  file.start();
  return () => file.readNow();
}

main().catch((err: Error) => {
  console.error(
    err instanceof SettingsError
      ? `gateway: ${err.message}`
      : `gateway: failed to start: ${err.stack ?? err}`,
  );
  process.exit(1);
});
