/**
 * The gateway's settings from its environment (names in runtime/gateway-env.ts). A missing or invalid
 * setting, or an invalid config document, is a `SettingsError` whose message names what to fix.
 */
import { readFileSync } from 'node:fs';
import { parseGatewayConfig, type GatewayConfig } from '../../runtime/gateway-config';
import { GATEWAY_CONTAINER_PORT, GatewayEnv } from '../../runtime/gateway-env';
import { documentVersion, type ConfigDocument } from './live-config';
import type { GatewayOptions, TunableOptions } from './options';

export class SettingsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SettingsError';
  }
}

/** Where the AppConfig Data API serves the document (`APPCONFIG_*`). */
export interface AppConfigSettings {
  readonly application: string;
  readonly environment: string;
  readonly profile: string;
  /** Seconds between polls. @default 30 */
  readonly pollSeconds: number;
}

/** The gateway options the environment sets (the rest keep their defaults), and where to listen. */
export interface Settings
  extends
    Partial<Pick<GatewayOptions, 'config' | 'configVersion' | 'configSource'>>,
    Pick<GatewayOptions, 'openaiBaseUrl' | 'redisUrl' | 'spendLedgerTable'>,
    Partial<
      Pick<
        TunableOptions,
        | 'keepAliveTimeoutMs'
        | 'shutdownTimeoutMs'
        | 'sseKeepAliveMs'
        | 'metricsFlushMs'
        | 'logLevel'
        | 'shedEventLoopDelayMs'
        | 'shedEventLoopUtilization'
        | 'shedSampleIntervalMs'
        | 'shedRetryAfterSeconds'
        | 'backgroundPollMs'
        | 'batchPollMs'
        | 'ledgerFlushMs'
        | 'replicas'
      >
    > {
  readonly port: number;
  readonly host: string;
  /** Exactly one of apiKey / apiKeySecretArn is set. */
  readonly apiKey?: string;
  readonly apiKeySecretArn?: string;
  readonly redisAuthSecretArn?: string;
  /** The `GATEWAY_CONFIG` file to watch for changes (not set for `GATEWAY_CONFIG_JSON`). @default none */
  readonly configPath?: string;
  /** How often the file is checked besides the watch, ms. @default 2000 */
  readonly configCheckMs: number;
  /** AppConfig, the running document's source when set. @default none */
  readonly appConfig?: AppConfigSettings;
}

const LOG_LEVELS = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

export function loadSettings(env: NodeJS.ProcessEnv): Settings {
  const text = (name: string): string | undefined => {
    const v = env[name]?.trim();
    return v === undefined || v === '' ? undefined : v;
  };
  const int = (name: string, min: number): number | undefined => {
    const v = text(name);
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min)
      throw new SettingsError(`${name} must be an integer of at least ${min} (got "${v}")`);
    return n;
  };

  const apiKey = text(GatewayEnv.openaiApiKey);
  const apiKeySecretArn = text(GatewayEnv.openaiApiKeySecretArn);
  if (!apiKey && !apiKeySecretArn) {
    throw new SettingsError(
      `set ${GatewayEnv.openaiApiKey} (local runs) or ${GatewayEnv.openaiApiKeySecretArn} (AWS) for the upstream key`,
    );
  }
  const openaiBaseUrl = text(GatewayEnv.openaiBaseUrl) ?? 'https://api.openai.com/v1';
  if (!/^https?:\/\//.test(openaiBaseUrl)) {
    throw new SettingsError(`${GatewayEnv.openaiBaseUrl} must be an http(s) URL (got "${openaiBaseUrl}")`);
  }
  const redisUrl = text(GatewayEnv.redisUrl);
  if (redisUrl && !/^rediss?:\/\//.test(redisUrl)) {
    throw new SettingsError(`${GatewayEnv.redisUrl} must start with redis:// or rediss://`);
  }
  const logLevel = text(GatewayEnv.logLevel);
  if (logLevel !== undefined && !LOG_LEVELS.has(logLevel))
    throw new SettingsError(`${GatewayEnv.logLevel} must be one of ${[...LOG_LEVELS].join(', ')}`);

  return {
    port: int(GatewayEnv.port, 0) ?? GATEWAY_CONTAINER_PORT,
    host: text(GatewayEnv.host) ?? '0.0.0.0',
    openaiBaseUrl,
    ...(apiKeySecretArn ? { apiKeySecretArn } : { apiKey }),
    ...(redisUrl ? { redisUrl } : {}),
    ...(text(GatewayEnv.redisAuthSecretArn)
      ? { redisAuthSecretArn: text(GatewayEnv.redisAuthSecretArn) }
      : {}),
    ...configSettings(text, int),
    keepAliveTimeoutMs: int(GatewayEnv.keepAliveTimeoutMs, 1_000),
    shutdownTimeoutMs: int(GatewayEnv.shutdownTimeoutMs, 0),
    sseKeepAliveMs: int(GatewayEnv.sseKeepAliveMs, 100),
    metricsFlushMs: int(GatewayEnv.metricsFlushMs, 100),
    logLevel,
    ...sheddingSettings(int),
    // Each poll asks upstream once per pending object: a floor of 1 s keeps a typo from hammering it.
    backgroundPollMs: int(GatewayEnv.backgroundPollMs, 1_000),
    batchPollMs: int(GatewayEnv.batchPollMs, 1_000),
    ...(text(GatewayEnv.spendLedgerTable) ? { spendLedgerTable: text(GatewayEnv.spendLedgerTable) } : {}),
    ledgerFlushMs: int(GatewayEnv.ledgerFlushMs, 100),
    replicas: int(GatewayEnv.replicas, 1),
  };
}

/** The load-shedding thresholds; utilization is set in whole percent. */
function sheddingSettings(
  int: IntSetting,
): Pick<
  Settings,
  'shedEventLoopDelayMs' | 'shedEventLoopUtilization' | 'shedSampleIntervalMs' | 'shedRetryAfterSeconds'
> {
  const utilizationPercent = int(GatewayEnv.shedEventLoopUtilizationPercent, 0);
  if (utilizationPercent !== undefined && utilizationPercent > 100)
    throw new SettingsError(`${GatewayEnv.shedEventLoopUtilizationPercent} must be at most 100`);
  return {
    shedEventLoopDelayMs: int(GatewayEnv.shedEventLoopDelayMs, 0),
    shedEventLoopUtilization: utilizationPercent === undefined ? undefined : utilizationPercent / 100,
    shedSampleIntervalMs: int(GatewayEnv.shedSampleIntervalMs, 10),
    shedRetryAfterSeconds: int(GatewayEnv.shedRetryAfterSeconds, 1),
  };
}

type TextSetting = (name: string) => string | undefined;
type IntSetting = (name: string, min: number) => number | undefined;

/** Where the config comes from: the file or JSON (validated now), AppConfig, or both (AppConfig first). */
function configSettings(
  text: TextSetting,
  int: IntSetting,
): Pick<
  Settings,
  'config' | 'configVersion' | 'configSource' | 'configPath' | 'configCheckMs' | 'appConfig'
> {
  const appConfig = appConfigSettings(text, int);
  const path = text(GatewayEnv.configPath);
  const json = text(GatewayEnv.configJson);
  const configCheckMs = int(GatewayEnv.configCheckMs, 100) ?? 2_000;
  if (appConfig !== undefined && path === undefined && json === undefined)
    return { appConfig, configCheckMs };
  const document = readConfigDocument(path, json);
  return {
    config: parseConfigText(document),
    configVersion: documentVersion(document),
    configSource: document.source,
    ...(json === undefined && path !== undefined ? { configPath: path } : {}),
    configCheckMs,
    ...(appConfig === undefined ? {} : { appConfig }),
  };
}

function appConfigSettings(text: TextSetting, int: IntSetting): AppConfigSettings | undefined {
  const application = text(GatewayEnv.appConfigApplication);
  if (application === undefined) return undefined;
  const named = (name: string): string => {
    const v = text(name);
    if (v === undefined)
      throw new SettingsError(`${name} must be set with ${GatewayEnv.appConfigApplication}`);
    return v;
  };
  return {
    application,
    environment: named(GatewayEnv.appConfigEnvironment),
    profile: named(GatewayEnv.appConfigProfile),
    pollSeconds: int(GatewayEnv.appConfigPollSeconds, 15) ?? 30,
  };
}

/** Reads the config document: `GATEWAY_CONFIG_JSON` wins over the `GATEWAY_CONFIG` path. */
export function readConfigDocument(path: string | undefined, json: string | undefined): ConfigDocument {
  if (json !== undefined) return { source: GatewayEnv.configJson, text: json };
  if (path === undefined) {
    throw new SettingsError(
      `no gateway config: set ${GatewayEnv.configPath} to the path of a config JSON (start from service/gateway.example.json), ${GatewayEnv.configJson} to the document, or ${GatewayEnv.appConfigApplication} (with ${GatewayEnv.appConfigEnvironment} and ${GatewayEnv.appConfigProfile}) to read it from AWS AppConfig`,
    );
  }
  try {
    return { source: path, text: readFileSync(path, 'utf8') };
  } catch (err) {
    throw new SettingsError(
      `cannot read ${GatewayEnv.configPath}=${path}: ${(err as NodeJS.ErrnoException).code ?? err}`,
    );
  }
}

/** Validates a document's text. @throws SettingsError naming its source and the field at fault */
export function parseConfigText(document: ConfigDocument): GatewayConfig {
  let parsed: unknown;
  try {
    parsed = JSON.parse(document.text);
  } catch (err) {
    throw new SettingsError(`${document.source} is not valid JSON: ${(err as Error).message}`);
  }
  try {
    return parseGatewayConfig(parsed);
  } catch (err) {
    throw new SettingsError(`${document.source}: ${(err as Error).message}`);
  }
}

/** Reads and validates the config document: `GATEWAY_CONFIG_JSON` wins over the `GATEWAY_CONFIG` path. */
export function loadConfig(path: string | undefined, json: string | undefined): GatewayConfig {
  return parseConfigText(readConfigDocument(path, json));
}
