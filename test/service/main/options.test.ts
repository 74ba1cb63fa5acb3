import { productionConfig, stagingConfig } from '../../../lib/config';
import {
  KEEP_ALIVE_MARGIN_MS,
  METRICS_FLUSH_MS,
  SHUTDOWN_MARGIN_MS,
} from '../../../lib/constructs/gateway-service/gateway-service';
import { parseGatewayConfig } from '../../../runtime/gateway-config';
import {
  GATEWAY_DEFAULTS,
  resolveGatewayOptions,
  type GatewayOptions,
  type TunableOptions,
} from '../../../service/main/options';
import { staticKey } from '../../../service/upstream/key';
import { testConfigDocument } from '../../support/gateway-harness';

/** ECS's stop timeout when a task definition sets none, s. */
const ECS_DEFAULT_STOP_TIMEOUT_SECONDS = 30;

const TUNABLE_NAMES: ReadonlyArray<keyof TunableOptions> = [
  'logLevel',
  'sseKeepAliveMs',
  'metricsFlushMs',
  'keepAliveTimeoutMs',
  'shutdownTimeoutMs',
  'retryBaseDelayMs',
  'keyRetryMs',
  'redisConnectWaitMs',
  'requestTimeoutMs',
  'writeStallTimeoutMs',
  'backgroundPollMs',
  'batchPollMs',
  'shedEventLoopDelayMs',
  'shedEventLoopUtilization',
  'shedSampleIntervalMs',
  'shedRetryAfterSeconds',
  'ledgerFlushMs',
  'replicas',
];

/** Values different from every default. */
const GIVEN: TunableOptions = {
  logLevel: 'debug',
  sseKeepAliveMs: 5_000,
  metricsFlushMs: 10_000,
  keepAliveTimeoutMs: 65_000,
  shutdownTimeoutMs: 55_000,
  retryBaseDelayMs: 10,
  keyRetryMs: 100,
  redisConnectWaitMs: 0,
  requestTimeoutMs: 5_000,
  writeStallTimeoutMs: 7_000,
  ledgerFlushMs: 250,
  replicas: 3,
  backgroundPollMs: 250,
  batchPollMs: 1_000,
  shedEventLoopDelayMs: 250,
  shedEventLoopUtilization: 0.99,
  shedSampleIntervalMs: 100,
  shedRetryAfterSeconds: 3,
};

function baseOptions(): GatewayOptions {
  return {
    config: parseGatewayConfig(testConfigDocument()),
    openaiBaseUrl: 'http://127.0.0.1:9/v1',
    upstreamKey: staticKey('sk-test'),
  };
}

describe('GATEWAY_DEFAULTS', () => {
  it('has the documented values', () => {
    expect(GATEWAY_DEFAULTS).toEqual({
      ledgerFlushMs: 1_000,
      replicas: 1,
      logLevel: 'info',
      sseKeepAliveMs: 15_000,
      metricsFlushMs: 60_000,
      keepAliveTimeoutMs: 125_000,
      shutdownTimeoutMs: 25_000,
      retryBaseDelayMs: 250,
      keyRetryMs: 5_000,
      redisConnectWaitMs: 2_000,
      requestTimeoutMs: 30_000,
      writeStallTimeoutMs: 30_000,
      backgroundPollMs: 5_000,
      batchPollMs: 60_000,
      shedEventLoopDelayMs: 100,
      shedEventLoopUtilization: 0,
      shedSampleIntervalMs: 500,
      shedRetryAfterSeconds: 1,
    });
  });

  it('has a default for every tunable option and nothing else', () => {
    expect(Object.keys(GATEWAY_DEFAULTS).sort()).toEqual([...TUNABLE_NAMES].sort());
  });

  it.each([
    ['staging', stagingConfig.service.idleTimeoutSeconds],
    ['production', productionConfig.service.idleTimeoutSeconds],
  ])("keeps connections open longer than the %s ALB's idle timeout (%p s)", (_stage, idleSeconds) => {
    expect(idleSeconds).toBe(120);
    expect(GATEWAY_DEFAULTS.keepAliveTimeoutMs).toBeGreaterThan(idleSeconds * 1000);
  });

  it("is the ALB's 120 s idle timeout plus the construct's keep-alive margin", () => {
    expect(GATEWAY_DEFAULTS.keepAliveTimeoutMs).toBe(120_000 + KEEP_ALIVE_MARGIN_MS);
  });

  it.each([
    ['staging', stagingConfig.service.idleTimeoutSeconds],
    ['production', productionConfig.service.idleTimeoutSeconds],
  ])("sends SSE keep-alive comments well within the %s ALB's idle timeout", (_stage, idleSeconds) => {
    expect(GATEWAY_DEFAULTS.sseKeepAliveMs).toBeLessThan(idleSeconds * 1000);
  });

  it("leaves the shutdown margin before ECS's default stop timeout", () => {
    expect(GATEWAY_DEFAULTS.shutdownTimeoutMs).toBe(
      ECS_DEFAULT_STOP_TIMEOUT_SECONDS * 1000 - SHUTDOWN_MARGIN_MS,
    );
  });

  it('flushes metrics at the interval the deployed task is given', () => {
    expect(GATEWAY_DEFAULTS.metricsFlushMs).toBe(METRICS_FLUSH_MS);
  });
});

describe('resolveGatewayOptions', () => {
  it('fills every default when no tunable option is given', () => {
    const given = baseOptions();
    const resolved = resolveGatewayOptions(given);
    expect(resolved).toEqual({ ...given, ...GATEWAY_DEFAULTS });
    for (const name of TUNABLE_NAMES) expect(resolved[name]).toBe(GATEWAY_DEFAULTS[name]);
  });

  it('keeps every given value', () => {
    const given = { ...baseOptions(), ...GIVEN };
    expect(resolveGatewayOptions(given)).toEqual(given);
  });

  it('keeps given zeros rather than taking the defaults', () => {
    const resolved = resolveGatewayOptions({
      ...baseOptions(),
      retryBaseDelayMs: 0,
      redisConnectWaitMs: 0,
      keyRetryMs: 0,
    });
    expect(resolved.retryBaseDelayMs).toBe(0);
    expect(resolved.redisConnectWaitMs).toBe(0);
    expect(resolved.keyRetryMs).toBe(0);
    expect(resolved.sseKeepAliveMs).toBe(15_000);
  });

  it('fills only the options not given', () => {
    const resolved = resolveGatewayOptions({
      ...baseOptions(),
      logLevel: 'warn',
      keepAliveTimeoutMs: 130_000,
    });
    expect(resolved.logLevel).toBe('warn');
    expect(resolved.keepAliveTimeoutMs).toBe(130_000);
    expect(resolved.shutdownTimeoutMs).toBe(25_000);
    expect(resolved.metricsFlushMs).toBe(60_000);
  });

  it.each(TUNABLE_NAMES.map((name) => [name]))('gives %s its default when it is set to undefined', (name) => {
    const given: GatewayOptions = { ...baseOptions(), ...GIVEN, [name]: undefined };
    expect(Object.keys(given)).toContain(name);
    const resolved = resolveGatewayOptions(given);
    expect(resolved[name]).toBe(GATEWAY_DEFAULTS[name]);
    for (const other of TUNABLE_NAMES.filter((n) => n !== name)) expect(resolved[other]).toBe(GIVEN[other]);
  });

  it('passes the other options through as the same objects', () => {
    const given = baseOptions();
    const sink = { write: () => undefined };
    const clock = () => 42;
    const resolved = resolveGatewayOptions({
      ...given,
      sink,
      clock,
      redisUrl: 'redis://127.0.0.1:6379',
      redisAuthToken: 'token',
      circuit: { failureThreshold: 5, cooldownMs: 2_000 },
    });
    expect(resolved.config).toBe(given.config);
    expect(resolved.upstreamKey).toBe(given.upstreamKey);
    expect(resolved.sink).toBe(sink);
    expect(resolved.clock).toBe(clock);
    expect(resolved.openaiBaseUrl).toBe('http://127.0.0.1:9/v1');
    expect(resolved.redisUrl).toBe('redis://127.0.0.1:6379');
    expect(resolved.redisAuthToken).toBe('token');
    expect(resolved.circuit).toEqual({ failureThreshold: 5, cooldownMs: 2_000 });
  });

  it('returns a new object and leaves the given options unchanged', () => {
    const given = { ...baseOptions(), logLevel: undefined };
    const before = { ...given };
    const resolved = resolveGatewayOptions(given);
    expect(resolved).not.toBe(given);
    expect(given).toEqual(before);
    expect(Object.keys(given)).toEqual(Object.keys(before));
    expect(given.logLevel).toBeUndefined();
  });

  it('leaves GATEWAY_DEFAULTS unchanged', () => {
    const before = { ...GATEWAY_DEFAULTS };
    resolveGatewayOptions({ ...baseOptions(), ...GIVEN });
    resolveGatewayOptions(baseOptions());
    expect(GATEWAY_DEFAULTS).toEqual(before);
  });
});
