/**
 * Environment variables the gateway process reads. The ECS task definition sets them from the stage
 * config; a local run sets them by hand. Values are never secrets: secrets arrive as ARNs.
 */
export const GatewayEnv = {
  /** Listen port. @default 8080 */
  port: 'PORT',
  /** Listen address. @default '0.0.0.0' */
  host: 'HOST',
  /** Upstream base URL including `/v1`. @default 'https://api.openai.com/v1' */
  openaiBaseUrl: 'OPENAI_BASE_URL',
  /** Upstream key for local runs only. On AWS use `OPENAI_API_KEY_SECRET_ARN`. */
  openaiApiKey: 'OPENAI_API_KEY',
  /** ARN of the Secrets Manager secret holding the upstream key (plain string or JSON `{"apiKey": "..."}`). */
  openaiApiKeySecretArn: 'OPENAI_API_KEY_SECRET_ARN',
  /** `redis://` or `rediss://` URL. Unset: an in-memory store (one replica only). */
  redisUrl: 'REDIS_URL',
  /** ARN of the secret holding the Redis AUTH token (plain string or JSON `{"authToken": "..."}`). */
  redisAuthSecretArn: 'REDIS_AUTH_SECRET_ARN',
  /** Path of the gateway config JSON document. */
  configPath: 'GATEWAY_CONFIG',
  /** The gateway config JSON document itself (the ECS task uses this; it holds no secret). */
  configJson: 'GATEWAY_CONFIG_JSON',
  /**
   * How often the `GATEWAY_CONFIG` file is checked (its size and modification time) besides the
   * directory watch, for file systems whose watch misses a change, ms. @default 2000
   */
  configCheckMs: 'GATEWAY_CONFIG_CHECK_MS',
  /**
   * AWS AppConfig application (name or id) the document is read from, with `APPCONFIG_ENVIRONMENT`
   * and `APPCONFIG_PROFILE`, through the AppConfig Data API. Set: the running document comes from
   * AppConfig (at start and every poll); `GATEWAY_CONFIG`/`GATEWAY_CONFIG_JSON`, if set, is used only
   * when AppConfig cannot be read at start. Unset: no AppConfig.
   */
  appConfigApplication: 'APPCONFIG_APPLICATION',
  /** AWS AppConfig environment (name or id). Required with `APPCONFIG_APPLICATION`. */
  appConfigEnvironment: 'APPCONFIG_ENVIRONMENT',
  /** AWS AppConfig configuration profile (name or id). Required with `APPCONFIG_APPLICATION`. */
  appConfigProfile: 'APPCONFIG_PROFILE',
  /**
   * Seconds between AppConfig polls (AppConfig's own `NextPollIntervalInSeconds` wins when it asks
   * for longer); at least 15, AppConfig's minimum. @default 30
   */
  appConfigPollSeconds: 'APPCONFIG_POLL_SECONDS',
  /** Node `keepAliveTimeout`; must exceed the ALB idle timeout. @default 125000 */
  keepAliveTimeoutMs: 'HTTP_KEEP_ALIVE_TIMEOUT_MS',
  /** Time SIGTERM allows in-flight requests and streams before exit; below the ECS stop timeout. @default 25000 */
  shutdownTimeoutMs: 'SHUTDOWN_TIMEOUT_MS',
  /** Interval of the SSE keep-alive comment on a stream that is waiting for upstream. @default 15000 */
  sseKeepAliveMs: 'SSE_KEEP_ALIVE_MS',
  /** Interval at which aggregated EMF metrics are written. @default 60000 */
  metricsFlushMs: 'METRICS_FLUSH_MS',
  /** Pino log level. @default 'info' */
  logLevel: 'LOG_LEVEL',
  /** Mean event-loop delay above which `/v1` requests are shed (503 + Retry-After); 0 never. @default 100 */
  shedEventLoopDelayMs: 'SHED_EVENT_LOOP_DELAY_MS',
  /** Event-loop utilization, in percent, above which `/v1` requests are shed; 0 never. @default 0 */
  shedEventLoopUtilizationPercent: 'SHED_EVENT_LOOP_UTILIZATION_PERCENT',
  /** Sampling interval of the event loop for shedding. @default 500 */
  shedSampleIntervalMs: 'SHED_SAMPLE_INTERVAL_MS',
  /** `Retry-After` of a shed request, seconds. @default 1 */
  shedRetryAfterSeconds: 'SHED_RETRY_AFTER_SECONDS',
  /** How often each replica asks upstream for the pending background responses (when allowed). @default 5000 */
  backgroundPollMs: 'BACKGROUND_POLL_MS',
  /** How often each replica reads the pending batches from upstream. @default 60000 */
  batchPollMs: 'BATCH_POLL_MS',
  /**
   * DynamoDB table of the stage's durable spend ledger (partition key `month` `YYYY-MM`, sort key
   * `scope`: `s` for the stage, `c:<client id>` for a client; number attributes `spentNanos`, added to
   * by the gateway, and `billedNanos`, raised by reconciliation). Unset: no ledger (local runs).
   */
  spendLedgerTable: 'SPEND_LEDGER_TABLE',
  /** How often each replica writes its aggregated spend increments to the ledger, ms. @default 1000 */
  ledgerFlushMs: 'LEDGER_FLUSH_MS',
  /**
   * The most replicas the stage may run (the service's autoscaling maximum): under the `shared`
   * fallback each replica enforces 1/N of the limits and of the budget left. @default 1
   */
  replicas: 'GATEWAY_REPLICAS',
} as const;

/** Paths the load balancer and container probes use. */
export const GatewayPaths = {
  /** Process is up. */
  health: '/healthz',
  /** Ready to take traffic; fails while draining after SIGTERM. The ALB health check uses this. */
  ready: '/readyz',
} as const;

/** Port the container listens on. */
export const GATEWAY_CONTAINER_PORT = 8080;
