import { DEFAULT_STAGE_BUDGET_SETTINGS } from '../constructs/budgets/stage-budget';
import { DEFAULT_GATEWAY_CACHE_SETTINGS } from '../constructs/cache/cache';
import { DEFAULT_GATEWAY_SERVICE_SETTINGS } from '../constructs/gateway-service/gateway-service';
import { DEFAULT_HANDLERS_SETTINGS } from '../constructs/handlers/gateway-handlers';
import { DEFAULT_NETWORK_SETTINGS } from '../constructs/network/network';
import { DEFAULT_ON_CALL_TOPIC_SETTINGS } from '../constructs/observability/on-call-topic';
import { DEFAULT_ALARM_THRESHOLDS } from '../constructs/observability/thresholds';
import { deepMerge, DeepPartial } from './merge';
import { GatewayDocument, StageConfig, StageEnvironment } from './types';

/** The gateway document's fields that are always the stage's own: who calls it and which models it pays for. */
type StageOwnGateway = Pick<GatewayDocument, 'clients' | 'models' | 'aliases'>;

/** What every stage starts from: a whole stage config but for the stage's name, account and own gateway fields. */
export type StageBase = Omit<StageConfig, 'name' | 'env' | 'gateway'> & {
  readonly gateway: Omit<GatewayDocument, keyof StageOwnGateway>;
};

/**
 * One stage as the base plus what differs: its name, account, callers and models, and any other field
 * of the base, given in part at any depth. An array replaces the base's array.
 */
export type StageDelta = DeepPartial<StageBase> & {
  readonly name: string;
  readonly env: StageEnvironment;
  readonly gateway: StageOwnGateway & DeepPartial<StageBase['gateway']>;
};

/**
 * The base every stage is a delta of: production-grade (multi-AZ, retained, protected, a year of
 * logs), so a setting a stage leaves out errs toward keeping data and staying up. A smaller or
 * disposable stage says so in its delta (see staging.ts).
 */
export const baseConfig: StageBase = {
  resilience: {
    removalPolicy: 'retain',
    deletionProtection: true,
    terminationProtection: true,
    accessLogDays: 365,
    requireMultiAz: true,
  },
  gateway: {
    limits: {
      maxTokens: 4096,
      defaultMaxTokens: 1024,
      maxN: 1,
      maxStopSequences: 4,
      maxBodyBytes: 1024 * 1024,
    },
    rateLimits: { rpm: 1000, tpm: 800_000, burstSeconds: 10 },
    budget: { monthlyUsd: 1000, notifyAtPercent: 80 },
    cache: { ttlSeconds: 3600, version: '1' },
    upstream: {
      organization: 'org-REPLACE_WITH_YOUR_ORGANIZATION',
      // Every stage names its own OpenAI project (validation refuses an empty one).
      project: '',
      timeoutMs: 60_000,
      maxRetries: 2,
      maxRetryAfterSeconds: 10,
    },
    moderation: { enabled: true, model: 'omni-moderation-latest' },
    store: { fallback: 'shared', commandTimeoutMs: 50 },
  },
  network: DEFAULT_NETWORK_SETTINGS,
  service: DEFAULT_GATEWAY_SERVICE_SETTINGS,
  cache: DEFAULT_GATEWAY_CACHE_SETTINGS,
  handlers: DEFAULT_HANDLERS_SETTINGS,
  onCall: DEFAULT_ON_CALL_TOPIC_SETTINGS,
  infraBudget: DEFAULT_STAGE_BUDGET_SETTINGS,
  alarms: DEFAULT_ALARM_THRESHOLDS,
  logRetentionDays: 365,
};

/** The stage config of `baseConfig` with `delta` applied (`deepMerge`: objects merge, arrays replace). */
export function stageFromBase(delta: StageDelta): StageConfig {
  return deepMerge<StageConfig>(baseConfig as StageConfig, delta as DeepPartial<StageConfig>);
}
