/**
 * AWS AppConfig as the live config source, through the AppConfig Data API: `StartConfigurationSession`
 * once, then `GetLatestConfiguration` on the session's token every poll. An empty body means the
 * version has not changed since the last one; every answer carries the token of the next poll and the
 * interval AppConfig asks for (`NextPollIntervalInSeconds`, honoured when longer than ours). A failed
 * poll keeps the token it was given and tries again on the next tick (a new session if the token was
 * refused as expired); the running config stays, and `onError` counts it.
 */
import {
  AppConfigDataClient,
  GetLatestConfigurationCommand,
  StartConfigurationSessionCommand,
} from '@aws-sdk/client-appconfigdata';
import type { ConfigDocument } from './live-config';
import type { AppConfigSettings } from './settings';

/** How the source names itself in logs. */
export const APPCONFIG_SOURCE = 'appconfig';

/** Where a source hands what it read. */
export interface ConfigSink {
  readonly onDocument: (document: ConfigDocument) => void;
  readonly onError: (err: unknown) => void;
}

export interface AppConfigSourceOptions extends AppConfigSettings {
  /** @default a client on the SDK's default settings (region and credentials from the task) */
  readonly client?: AppConfigDataClient;
}

export class AppConfigSource {
  private readonly client: AppConfigDataClient;
  private token: string | undefined;
  private intervalSeconds: number;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private running: Promise<ConfigDocument | undefined> | undefined;

  constructor(private readonly options: AppConfigSourceOptions) {
    this.client = options.client ?? new AppConfigDataClient({});
    this.intervalSeconds = options.pollSeconds;
  }

  /**
   * One poll: the new document, or undefined when AppConfig reports no change. A poll asked for while
   * one runs (SIGHUP during a tick) shares it: a token is good for one call.
   * @throws the SDK's error when AppConfig cannot be read
   */
  poll(): Promise<ConfigDocument | undefined> {
    this.running ??= this.pollOnce().finally(() => (this.running = undefined));
    return this.running;
  }

  private async pollOnce(): Promise<ConfigDocument | undefined> {
    if (this.token === undefined) await this.startSession();
    let answer;
    try {
      answer = await this.client.send(new GetLatestConfigurationCommand({ ConfigurationToken: this.token }));
    } catch (err) {
      // An expired or refused token needs a new session; anything else keeps the token for the retry.
      if ((err as Error).name === 'BadRequestException') this.token = undefined;
      throw err;
    }
    this.token = answer.NextPollConfigurationToken ?? this.token;
    if (answer.NextPollIntervalInSeconds !== undefined)
      this.intervalSeconds = Math.max(this.options.pollSeconds, answer.NextPollIntervalInSeconds);
    const body = answer.Configuration;
    if (body === undefined || body.length === 0) return undefined;
    return {
      text: Buffer.from(body).toString('utf8'),
      source: APPCONFIG_SOURCE,
      ...(answer.VersionLabel ? { versionLabel: answer.VersionLabel } : {}),
    };
  }

  /** One poll, its new document (if any) or its failure handed to `sink`. Never throws. */
  pollInto(sink: ConfigSink): Promise<void> {
    return this.poll().then(
      (document) => {
        if (document !== undefined) sink.onDocument(document);
      },
      (err: unknown) => sink.onError(err),
    );
  }

  /** Polls every interval from now on, handing each new document or failure to `sink`. */
  start(sink: ConfigSink): void {
    const tick = () => {
      void this.pollInto(sink).finally(() => {
        if (!this.stopped) this.schedule(tick);
      });
    };
    this.schedule(tick);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** The seconds the next poll waits: ours, or AppConfig's when it asks for longer. */
  get pollIntervalSeconds(): number {
    return this.intervalSeconds;
  }

  private schedule(tick: () => void): void {
    this.timer = setTimeout(tick, this.intervalSeconds * 1000);
    this.timer.unref();
  }

  private async startSession(): Promise<void> {
    const { application, environment, profile, pollSeconds } = this.options;
    const session = await this.client.send(
      new StartConfigurationSessionCommand({
        ApplicationIdentifier: application,
        EnvironmentIdentifier: environment,
        ConfigurationProfileIdentifier: profile,
        RequiredMinimumPollIntervalInSeconds: pollSeconds,
      }),
    );
    this.token = session.InitialConfigurationToken;
  }
}
