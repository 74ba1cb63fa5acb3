/**
 * The one list of custom CloudWatch metrics: the gateway and the handlers emit these names, and the
 * infrastructure's dashboards and alarms read them. Change a name here and both sides follow.
 */
export const METRIC_NAMESPACE = 'OpenAIBlueprint';

/** Dimension names. Every metric carries `Stage`; gateway metrics also come per `Model` and per `Client`. */
export const Dimension = {
  stage: 'Stage',
  model: 'Model',
  client: 'Client',
  service: 'Service',
} as const;

/** Gateway metrics (EMF on the task's stdout, aggregated per flush interval). */
export const GatewayMetric = {
  /** Requests answered, any status. Count. */
  requests: 'Requests',
  /** Time from request received to response finished, ms. */
  latency: 'Latency',
  /** Time from upstream request sent to upstream response headers (non-stream) or last byte, ms. */
  upstreamLatency: 'UpstreamLatency',
  /** Streams: time from request received to first content chunk sent to the caller, ms. */
  timeToFirstToken: 'TimeToFirstToken',
  promptTokens: 'PromptTokens',
  /**
   * The share of PromptTokens upstream served from its prompt cache (`cached_tokens`). Count; the
   * dashboard plots CachedPromptTokens / PromptTokens per client, the client's cache hit rate.
   */
  cachedPromptTokens: 'CachedPromptTokens',
  completionTokens: 'CompletionTokens',
  /** Metered cost of the request from `usage` x model price, USD. */
  costUsd: 'CostUsd',
  cacheHits: 'CacheHits',
  cacheMisses: 'CacheMisses',
  /** 429s the gateway returned to callers (its own limits and budgets, or upstream's after retries). Count. */
  throttled: 'Throttled',
  /** 429s the upstream returned to the gateway, retries included. Count. */
  upstream429: 'Upstream429',
  /** 5xx, timeouts and connection failures from the upstream, retries included. Count. */
  upstreamErrors: 'UpstreamErrors',
  /** 5xx the gateway returned to callers. Count. */
  errors5xx: 'Errors5xx',
  /** Requests refused because a monthly budget is spent. Count. */
  budgetExceeded: 'BudgetExceeded',
  /**
   * `/v1` requests shed because the gateway's event loop was overloaded: answered 503 with
   * Retry-After before any work (also counted in Errors5xx). Count.
   */
  shed: 'Shed',
  /** Redis commands that failed or timed out, and requests served while the circuit was open. Count. */
  storeErrors: 'StoreErrors',
  /**
   * Admissions decided by the store fallback because Redis could not answer (limits and budgets then
   * hold per replica, as a share: see service/store/README.md). Count; above 0 means fallback active.
   */
  fallbackAdmissions: 'FallbackAdmissions',
  /**
   * Writes of the durable spend ledger (DynamoDB) that failed; their increments are kept in memory
   * and retried, and are the spend a task that dies now would leave unrecorded. Count.
   */
  ledgerWriteErrors: 'LedgerWriteErrors',
  /** Reads of the spend ledger (to re-seed an empty Redis, or to base the fallback's shares) that failed. Count. */
  ledgerReadErrors: 'LedgerReadErrors',
  /** Config documents applied while the gateway runs (file change, SIGHUP, AppConfig). Count. */
  configReloads: 'ConfigReloads',
  /**
   * Config documents refused (invalid, or changing a field that needs a restart): the running config
   * stays, and a warn log line names the field at fault. Count; above 0 means a bad document is waiting.
   */
  configReloadsRejected: 'ConfigReloadsRejected',
  /** Reads of the config source that failed (an AppConfig poll, an unreadable file). Count. */
  configSourceErrors: 'ConfigSourceErrors',
  /** Month-to-date metered spend of the stage, USD (a gauge, emitted once a flush). */
  monthToDateSpendUsd: 'MonthToDateSpendUsd',
} as const;

/** Canary handler metrics. */
export const CanaryMetric = {
  /** 1 when both the chat and the Responses calls worked, else 0. */
  success: 'CanarySuccess',
  /** The streamed chat completion, request to end of stream, ms. */
  latency: 'CanaryLatency',
  /** The streamed chat completion, request to first content delta, ms. */
  timeToFirstToken: 'CanaryTimeToFirstToken',
  /** The streamed Responses call, request to terminal event, ms. */
  responsesLatency: 'CanaryResponsesLatency',
  /** The streamed Responses call, request to first `response.output_text.delta`, ms. */
  responsesTimeToFirstToken: 'CanaryResponsesTimeToFirstToken',
} as const;

/** Spend reconciliation handler metrics. */
export const ReconciliationMetric = {
  /** Month-to-date cost reported by OpenAI's costs API for the stage's project, USD. */
  actualSpendUsd: 'ActualSpendUsd',
  /** ActualSpendUsd minus the gateway's metered MonthToDateSpendUsd, USD. */
  spendDriftUsd: 'SpendDriftUsd',
  /** 1 when the reconciliation could not read costs (bad admin key, API error), else 0. */
  failure: 'ReconciliationFailure',
} as const;

/** Key rotation handler metrics. */
export const RotationMetric = {
  success: 'KeyRotationSuccess',
  failure: 'KeyRotationFailure',
} as const;

/** Batch handler metrics. */
export const BatchMetric = {
  submitted: 'BatchSubmitted',
  rejected: 'BatchRejected',
  completed: 'BatchCompleted',
  failed: 'BatchFailed',
} as const;
