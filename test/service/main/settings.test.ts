import { join } from 'node:path';
import { resolveGatewayOptions } from '../../../service/main/options';
import { loadConfig, loadSettings, SettingsError } from '../../../service/main/settings';
import { staticKey } from '../../../service/upstream/key';
import { testConfigDocument } from '../../support/gateway-harness';

describe('settings', () => {
  const example = join(__dirname, '..', '..', '..', 'service', 'gateway.example.json');

  it('loads the example config and applies defaults', () => {
    const s = loadSettings({ OPENAI_API_KEY: 'k', GATEWAY_CONFIG: example });
    expect(s).toMatchObject({
      port: 8080,
      host: '0.0.0.0',
      openaiBaseUrl: 'https://api.openai.com/v1',
    });
    // Unset settings take the one defaults table's values.
    expect(s.keepAliveTimeoutMs).toBeUndefined();
    const options = resolveGatewayOptions({ ...s, config: s.config!, upstreamKey: staticKey('k') });
    expect(options).toMatchObject({ keepAliveTimeoutMs: 125_000, sseKeepAliveMs: 15_000, logLevel: 'info' });
    expect(s.config?.stage).toBe('local');
    // The file is watched; its version is the SHA-256 of its bytes.
    expect(s.configPath).toBe(example);
    expect(s.configVersion).toMatch(/^[0-9a-f]{12}$/);
  });

  it.each([
    [{ GATEWAY_CONFIG: 'x' }, /OPENAI_API_KEY/],
    [{ OPENAI_API_KEY: 'k' }, /GATEWAY_CONFIG/],
    [{ OPENAI_API_KEY: 'k', GATEWAY_CONFIG: '/nonexistent.json' }, /cannot read/],
    [{ OPENAI_API_KEY: 'k', GATEWAY_CONFIG_JSON: '{' }, /not valid JSON/],
    [{ OPENAI_API_KEY: 'k', GATEWAY_CONFIG_JSON: '{}' }, /models/],
    [{ OPENAI_API_KEY: 'k', GATEWAY_CONFIG: example, PORT: 'abc' }, /PORT/],
    [{ OPENAI_API_KEY: 'k', GATEWAY_CONFIG: example, REDIS_URL: 'http://x' }, /REDIS_URL/],
    [
      { OPENAI_API_KEY: 'k', GATEWAY_CONFIG: example, SHED_EVENT_LOOP_DELAY_MS: '-1' },
      /SHED_EVENT_LOOP_DELAY_MS/,
    ],
    [
      { OPENAI_API_KEY: 'k', GATEWAY_CONFIG: example, SHED_EVENT_LOOP_UTILIZATION_PERCENT: '101' },
      /SHED_EVENT_LOOP_UTILIZATION_PERCENT must be at most 100/,
    ],
    [
      { OPENAI_API_KEY: 'k', GATEWAY_CONFIG: example, SHED_RETRY_AFTER_SECONDS: '0' },
      /SHED_RETRY_AFTER_SECONDS/,
    ],
    [
      { OPENAI_API_KEY: 'k', APPCONFIG_APPLICATION: 'app' },
      /APPCONFIG_ENVIRONMENT must be set with APPCONFIG_APPLICATION/,
    ],
    [
      {
        OPENAI_API_KEY: 'k',
        APPCONFIG_APPLICATION: 'app',
        APPCONFIG_ENVIRONMENT: 'e',
        APPCONFIG_PROFILE: 'p',
        APPCONFIG_POLL_SECONDS: '5',
      },
      /APPCONFIG_POLL_SECONDS must be an integer of at least 15/,
    ],
  ])('rejects %j with a message naming what to fix', (env, message) => {
    expect(() => loadSettings(env)).toThrow(SettingsError);
    expect(() => loadSettings(env)).toThrow(message);
  });

  it('reads the load-shedding thresholds, utilization in percent, and leaves unset ones to the defaults', () => {
    const s = loadSettings({
      OPENAI_API_KEY: 'k',
      GATEWAY_CONFIG: example,
      SHED_EVENT_LOOP_DELAY_MS: '0',
      SHED_EVENT_LOOP_UTILIZATION_PERCENT: '97',
      SHED_SAMPLE_INTERVAL_MS: '250',
    });
    const options = resolveGatewayOptions({ ...s, config: s.config!, upstreamKey: staticKey('k') });
    expect(options).toMatchObject({
      shedEventLoopDelayMs: 0,
      shedEventLoopUtilization: 0.97,
      shedSampleIntervalMs: 250,
      shedRetryAfterSeconds: 1,
    });
  });

  it('reads the poll intervals of pending background responses and batches, at least 1 s', () => {
    const s = loadSettings({ OPENAI_API_KEY: 'k', GATEWAY_CONFIG: example, BATCH_POLL_MS: '30000' });
    const options = resolveGatewayOptions({ ...s, config: s.config!, upstreamKey: staticKey('k') });
    expect(options).toMatchObject({ batchPollMs: 30_000, backgroundPollMs: 5_000 });
    expect(() =>
      loadSettings({ OPENAI_API_KEY: 'k', GATEWAY_CONFIG: example, BACKGROUND_POLL_MS: '10' }),
    ).toThrow(/BACKGROUND_POLL_MS/);
  });

  it('prefers GATEWAY_CONFIG_JSON over the path', () => {
    expect(loadConfig('/nonexistent.json', JSON.stringify(testConfigDocument({ stage: 'json' }))).stage).toBe(
      'json',
    );
  });

  it('reads AppConfig identifiers; with no file or JSON the document comes from AppConfig alone', () => {
    const s = loadSettings({
      OPENAI_API_KEY: 'k',
      APPCONFIG_APPLICATION: 'gateway',
      APPCONFIG_ENVIRONMENT: 'prod',
      APPCONFIG_PROFILE: 'document',
    });
    expect(s.appConfig).toEqual({
      application: 'gateway',
      environment: 'prod',
      profile: 'document',
      pollSeconds: 30,
    });
    expect(s.config).toBeUndefined();
  });
});
