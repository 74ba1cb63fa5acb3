import {
  AppConfigDataClient,
  GetLatestConfigurationCommand,
  StartConfigurationSessionCommand,
  type GetLatestConfigurationCommandOutput,
} from '@aws-sdk/client-appconfigdata';
import { mockClient } from 'aws-sdk-client-mock';
import { parseGatewayConfig } from '../../../runtime/gateway-config';
import { AppConfigSource } from '../../../service/main/appconfig-source';
import {
  ConfigReloader,
  LiveConfig,
  parseConfigDocument,
  type ConfigDocument,
} from '../../../service/main/live-config';
import { createPipelineShared } from '../../../service/pipeline/model-call';
import { MemoryStore } from '../../../service/store/memory-store';
import { GatewayMetrics } from '../../../service/telemetry/metrics';
import { UpstreamClient } from '../../../service/upstream/client';
import { staticKey } from '../../../service/upstream/key';
import { MID_MONTH_MS } from '../../support/clock';
import { KEYS, testConfigDocument } from '../../support/gateway-harness';

/** A body as the SDK hands it over: bytes that can also say themselves as text. */
const blob = (text: string): GetLatestConfigurationCommandOutput['Configuration'] =>
  Object.assign(new TextEncoder().encode(text), { transformToString: () => text });
const bytes = (doc: unknown) => blob(JSON.stringify(doc));
const EMPTY = blob('');
const v1 = testConfigDocument();
const v2 = testConfigDocument({
  clients: [
    ...(v1.clients as object[]),
    { id: 'new-team', keySha256: 'e'.repeat(64), rpm: 5, tpm: 500, monthlyBudgetUsd: 1 },
  ],
});
const v3 = testConfigDocument({
  clients: [{ id: 'app', keySha256: 'f'.repeat(64), rpm: 0, tpm: 1, monthlyBudgetUsd: 1 }],
});

/** The live config, reloader and metrics a gateway wires around a source, on an in-memory store. */
function liveGateway(initialText: string, version: string) {
  const now = () => MID_MONTH_MS;
  const lines: string[] = [];
  const metrics = new GatewayMetrics({ stage: 'test', write: (l) => lines.push(l), now });
  const upstream = new UpstreamClient({
    baseUrl: 'http://127.0.0.1:9/v1',
    key: staticKey('k'),
    timeoutMs: 100,
    maxRetries: 0,
    maxRetryAfterSeconds: 0,
  });
  const shared = createPipelineShared({ store: new MemoryStore({ now }), upstream, sseKeepAliveMs: 15_000 });
  const live = new LiveConfig(shared, parseConfigDocument(initialText), version, now);
  const logged: Array<{ level: string; fields: Record<string, unknown>; msg: string }> = [];
  const log = {
    info: (fields: Record<string, unknown>, msg: string) => logged.push({ level: 'info', fields, msg }),
    warn: (fields: Record<string, unknown>, msg: string) => logged.push({ level: 'warn', fields, msg }),
  };
  const reloader = new ConfigReloader({ live, metrics, log: log as never });
  const sink = {
    onDocument: (d: ConfigDocument) => void reloader.apply(d),
    onError: (e: unknown) => reloader.sourceFailed('appconfig', e),
  };
  const stageCount = (name: string) => {
    metrics.flush();
    const line = lines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => !('Client' in l) && !('Model' in l));
    lines.length = 0;
    return line?.[name];
  };
  return { live, logged, sink, stageCount };
}

describe('AppConfigSource', () => {
  const mock = mockClient(AppConfigDataClient);
  beforeEach(() => mock.reset());
  afterAll(() => mock.restore());

  it('loads the first version, skips unchanged polls, applies a new one, refuses an invalid one and counts a failed poll', async () => {
    mock
      .on(StartConfigurationSessionCommand, {
        ApplicationIdentifier: 'gateway',
        EnvironmentIdentifier: 'test',
        ConfigurationProfileIdentifier: 'document',
        RequiredMinimumPollIntervalInSeconds: 15,
      })
      .resolves({ InitialConfigurationToken: 't0' });
    const latest = (token: string) => mock.on(GetLatestConfigurationCommand, { ConfigurationToken: token });
    latest('t0').resolves({
      Configuration: bytes(v1),
      VersionLabel: 'v1',
      NextPollConfigurationToken: 't1',
      NextPollIntervalInSeconds: 15,
    });
    latest('t1').resolves({
      Configuration: EMPTY,
      NextPollConfigurationToken: 't2',
      NextPollIntervalInSeconds: 45,
    });
    latest('t2').resolves({ Configuration: bytes(v2), VersionLabel: 'v2', NextPollConfigurationToken: 't3' });
    latest('t3').resolves({ Configuration: bytes(v3), VersionLabel: 'v3', NextPollConfigurationToken: 't4' });
    latest('t4')
      .rejectsOnce(Object.assign(new Error('connect ECONNREFUSED'), { name: 'TimeoutError' }))
      .resolves({ Configuration: EMPTY, NextPollConfigurationToken: 't5' });

    const source = new AppConfigSource({
      application: 'gateway',
      environment: 'test',
      profile: 'document',
      pollSeconds: 15,
      client: new AppConfigDataClient({ region: 'eu-west-1' }),
    });

    // First load: the document and its version label, as the entry point starts with it.
    const first = await source.poll();
    expect(first).toEqual({ text: JSON.stringify(v1), source: 'appconfig', versionLabel: 'v1' });
    const gw = liveGateway(first!.text, first!.versionLabel!);
    expect(gw.live.current.config.clients.map((c) => c.id)).toEqual(['app', 'other', 'limited']);

    // Unchanged: an empty body; AppConfig's longer interval is honoured.
    await source.pollInto(gw.sink);
    expect(gw.live.current.version).toBe('v1');
    expect(source.pollIntervalSeconds).toBe(45);
    expect(gw.logged).toEqual([]);

    // A new version: applied, logged with its version and the client ids added.
    const before = gw.live.current;
    await source.pollInto(gw.sink);
    expect(gw.live.current.version).toBe('v2');
    expect(gw.live.current.authenticate(`Bearer ${KEYS.app}`)?.id).toBe('app');
    expect(before.config.clients).toHaveLength(3); // the old snapshot is untouched
    expect(gw.logged.at(-1)).toEqual({
      level: 'info',
      msg: 'config loaded',
      fields: {
        source: 'appconfig',
        version: 'v2',
        previous: 'v1',
        added: ['new-team'],
        removed: [],
        changed: [],
      },
    });
    expect(gw.stageCount('ConfigReloads')).toBe(1);

    // An invalid version: refused with the field at fault, the running one stays.
    await source.pollInto(gw.sink);
    expect(gw.live.current.version).toBe('v2');
    expect(gw.logged.at(-1)).toMatchObject({
      level: 'warn',
      fields: { version: 'v3', running: 'v2', field: 'clients[0].rpm' },
    });
    expect(gw.logged.at(-1)!.msg).toContain('gateway config: clients[0].rpm must be an integer from 1 to');
    expect(gw.stageCount('ConfigReloadsRejected')).toBe(1);

    // A failed poll: counted, the running config stays, and the next poll reuses the token it was given.
    await source.pollInto(gw.sink);
    expect(gw.live.current.version).toBe('v2');
    expect(gw.logged.at(-1)).toMatchObject({ level: 'warn', fields: { source: 'appconfig', running: 'v2' } });
    expect(gw.stageCount('ConfigSourceErrors')).toBe(1);
    await source.pollInto(gw.sink);
    const tokens = mock
      .commandCalls(GetLatestConfigurationCommand)
      .map((c) => c.args[0].input.ConfigurationToken);
    expect(tokens).toEqual(['t0', 't1', 't2', 't3', 't4', 't4']);
    expect(mock.commandCalls(StartConfigurationSessionCommand)).toHaveLength(1);
    // The unchanged poll after it counts nothing: no stage line at all.
    expect(gw.stageCount('ConfigSourceErrors')).toBeUndefined();
  });

  it('starts a new session when the token is refused', async () => {
    mock
      .on(StartConfigurationSessionCommand)
      .resolvesOnce({ InitialConfigurationToken: 'a' })
      .resolves({ InitialConfigurationToken: 'b' });
    mock
      .on(GetLatestConfigurationCommand, { ConfigurationToken: 'a' })
      .rejects(Object.assign(new Error('expired'), { name: 'BadRequestException' }));
    mock
      .on(GetLatestConfigurationCommand, { ConfigurationToken: 'b' })
      .resolves({ Configuration: bytes(v1), NextPollConfigurationToken: 'c' });
    const source = new AppConfigSource({
      application: 'a',
      environment: 'e',
      profile: 'p',
      pollSeconds: 30,
      client: new AppConfigDataClient({ region: 'eu-west-1' }),
    });
    await expect(source.poll()).rejects.toThrow('expired');
    const doc = await source.poll();
    expect(parseConfigDocument(doc!.text)).toEqual(parseGatewayConfig(v1));
    expect(doc!.versionLabel).toBeUndefined();
  });
});

describe('LiveConfig', () => {
  it('refuses a document that changes a field needing a restart, naming it, and keeps the running one', () => {
    const gw = liveGateway(JSON.stringify(v1), 'v1');
    const reloader = gw.sink;
    reloader.onDocument({
      text: JSON.stringify(testConfigDocument({ stage: 'other' })),
      source: 'file',
    });
    expect(gw.live.current.version).toBe('v1');
    expect(gw.logged.at(-1)).toMatchObject({ level: 'warn', fields: { field: 'stage' } });
    expect(gw.logged.at(-1)!.msg).toContain('gateway config: stage cannot change while the gateway runs');
    reloader.onDocument({ text: '{ not json', source: 'file' });
    expect(gw.logged.at(-1)).toMatchObject({ level: 'warn', fields: { field: '(document)' } });
    expect(gw.stageCount('ConfigReloadsRejected')).toBe(2);
  });

  it('names the clients removed and changed, never their hashes', () => {
    const gw = liveGateway(JSON.stringify(v1), 'v1');
    const next = testConfigDocument({
      clients: [{ ...(v1.clients as Record<string, unknown>[])[0], rpm: 7 }, (v1.clients as object[])[1]],
    });
    gw.sink.onDocument({ text: JSON.stringify(next), source: 'file' });
    expect(gw.logged.at(-1)!.fields).toMatchObject({ added: [], removed: ['limited'], changed: ['app'] });
    expect(JSON.stringify(gw.logged)).not.toMatch(/[0-9a-f]{64}/);
    expect(gw.live.current.version).toMatch(/^[0-9a-f]{12}$/);
    expect(gw.live.current.pipeline.limits.client('app').rpm).toBe(7);
  });
});
