import {
  GatewayConfig,
  GatewayConfigError,
  parseGatewayConfig,
  resolveModel,
  stageTokenBurst,
} from '../../runtime/gateway-config';
import { checkStageBudgetSettings } from '../constructs/budgets/stage-budget';
import { checkGatewayCacheSettings } from '../constructs/cache/cache';
import {
  certificateLocation,
  checkGatewayServiceSettings,
} from '../constructs/gateway-service/gateway-service';
import { checkHandlersSettings } from '../constructs/handlers/gateway-handlers';
import { checkNetworkSettings } from '../constructs/network/network';
import { checkOnCallTopicSettings } from '../constructs/observability/on-call-topic';
import { checkAlarmThresholds } from '../constructs/observability/thresholds';
import { SettingsError, SettingsProblems } from '../constructs/settings';
import { StageConfig, US_REGIONS } from './types';

/** A stage config is wrong: the message starts with the stage name and lists every problem, each naming its field. */
export class StageConfigError extends SettingsError {
  constructor(stage: string, problems: readonly string[]) {
    super(stage, problems);
    this.name = 'StageConfigError';
  }
}

/** Retention periods CloudWatch Logs accepts. */
const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

const ACCOUNT_ID = /^\d{12}$/;
const STAGE_NAME = /^[A-Z][A-Za-z0-9]{0,31}$/;

/**
 * Validates a stage config at synth time and returns the gateway document it carries, validated and
 * with defaults filled, stamped with the stage name. Each group is checked by its construct's own
 * check (`lib/constructs/settings.ts`); the rules between groups are here.
 * @throws StageConfigError naming the stage and every field that is wrong
 */
export function validateStageConfig(config: StageConfig): GatewayConfig {
  const stage = config.name;
  if (!STAGE_NAME.test(stage)) {
    throw new StageConfigError(stage || '(unnamed)', [
      'name must start with a capital letter and hold only letters and digits (at most 32)',
    ]);
  }
  const problems = new SettingsProblems();
  checkEnvironment(config, problems);
  const gateway = checkGateway(config, problems);
  checkResilience(config, problems);
  checkNetworkSettings(config.network, problems.group('network'));
  checkGatewayServiceSettings(config.service, problems.group('service'));
  checkCertificateLocation(config, problems);
  checkGatewayCacheSettings(config.cache, problems.group('cache'));
  checkHandlersSettings(config.handlers, problems.group('handlers'));
  checkOnCallTopicSettings(config.onCall, problems.group('onCall'));
  checkStageBudgetSettings(config.infraBudget, problems.group('infraBudget'));
  checkStageFields(config, problems);
  checkAlarmThresholds(config.alarms, problems.group('alarms'));
  checkMultiAz(config, problems);
  if (problems.list.length > 0 || gateway === undefined) throw new StageConfigError(stage, problems.list);
  return gateway;
}

function checkEnvironment(config: StageConfig, problems: SettingsProblems): void {
  const { account, region } = config.env;
  problems.expect(
    ACCOUNT_ID.test(account),
    () => `env.account must be a 12-digit AWS account ID, got "${account}"`,
  );
  problems.expect(
    (US_REGIONS as readonly string[]).includes(region),
    () => `env.region "${region}" is not a US region; use one of ${US_REGIONS.join(', ')}`,
  );
}

/** The gateway document parsed by the gateway's own parser, then the rules it cannot know alone. */
function checkGateway(config: StageConfig, problems: SettingsProblems): GatewayConfig | undefined {
  let gateway: GatewayConfig;
  try {
    gateway = parseGatewayConfig({ ...config.gateway, stage: config.name });
  } catch (err) {
    if (!(err instanceof GatewayConfigError)) throw err;
    problems.add(err.message);
    return undefined;
  }
  validateGatewayConsistency(gateway, problems);
  problems.expect(
    Boolean(gateway.upstream.organization),
    () => 'gateway.upstream.organization must name the OpenAI organization (org-...)',
  );
  problems.expect(
    Boolean(gateway.upstream.project),
    () => 'gateway.upstream.project must name the OpenAI project of this stage (proj_...)',
  );
  problems.expect(
    resolveModel(gateway, config.handlers.canaryModel) !== undefined,
    () =>
      `handlers.canaryModel "${config.handlers.canaryModel}" has no price in gateway.models and is no alias`,
  );
  return gateway;
}

/** What `resilience.requireMultiAz` demands of the groups that one AZ outage could take down. */
function checkMultiAz(config: StageConfig, problems: SettingsProblems): void {
  if (!config.resilience.requireMultiAz) return;
  const { maxAzs } = config.network;
  const { minTasks } = config.service;
  const { nodes } = config.cache;
  problems.expect(
    maxAzs >= 2,
    () => `network.maxAzs must be at least 2 when resilience.requireMultiAz is true, got ${maxAzs}`,
  );
  problems.expect(
    minTasks >= 2,
    () =>
      `service.minTasks must be at least 2 when resilience.requireMultiAz is true (one task per AZ), got ${minTasks}`,
  );
  problems.expect(
    nodes >= 2,
    () =>
      `cache.nodes must be at least 2 when resilience.requireMultiAz is true (automatic failover), got ${nodes}`,
  );
}

function validateGatewayConsistency(gateway: GatewayConfig, problems: SettingsProblems): void {
  gateway.clients.forEach((client, i) => {
    if (client.rpm > gateway.rateLimits.rpm) {
      problems.add(
        `gateway.clients[${i}].rpm (${client.rpm}) must not exceed gateway.rateLimits.rpm (${gateway.rateLimits.rpm})`,
      );
    }
    if (client.tpm > gateway.rateLimits.tpm) {
      problems.add(
        `gateway.clients[${i}].tpm (${client.tpm}) must not exceed gateway.rateLimits.tpm (${gateway.rateLimits.tpm})`,
      );
    }
    if (gateway.limits.maxTokens > client.tpm) {
      problems.add(
        `gateway.limits.maxTokens (${gateway.limits.maxTokens}) must not exceed gateway.clients[${i}].tpm (${client.tpm}): ` +
          'a request at the cap could never be admitted',
      );
    }
  });
  const burst = stageTokenBurst(gateway.rateLimits);
  if (gateway.limits.maxTokens > burst) {
    problems.add(
      `gateway.limits.maxTokens (${gateway.limits.maxTokens}) must not exceed what gateway.rateLimits.tpm allows in ` +
        `one burst of gateway.rateLimits.burstSeconds (${burst}): a request at the cap could never be admitted`,
    );
  }
}

function checkResilience(config: StageConfig, problems: SettingsProblems): void {
  const r = config.resilience;
  if (r.removalPolicy !== 'retain' && r.removalPolicy !== 'destroy')
    problems.add(`resilience.removalPolicy must be "retain" or "destroy", got "${String(r.removalPolicy)}"`);
  if (typeof r.deletionProtection !== 'boolean')
    problems.add(`resilience.deletionProtection must be true or false, got ${String(r.deletionProtection)}`);
  if (!Number.isInteger(r.accessLogDays) || r.accessLogDays < 1)
    problems.add(`resilience.accessLogDays must be a positive integer, got ${r.accessLogDays}`);
}

/** The service's certificate must be where the stage deploys (its format is the service's own check). */
function checkCertificateLocation(config: StageConfig, problems: SettingsProblems): void {
  const { certificateArn } = config.service;
  const location = certificateArn === undefined ? undefined : certificateLocation(certificateArn);
  if (location === undefined) return;
  const { account, region } = config.env;
  problems.expect(
    location.region === region && location.account === account,
    () => `service.certificateArn must be in the stage's account ${account} and region ${region}`,
  );
}

/** The stage config's own fields, outside every group. */
function checkStageFields(config: StageConfig, problems: SettingsProblems): void {
  if (!LOG_RETENTION_DAYS.includes(config.logRetentionDays)) {
    problems.add(
      `logRetentionDays must be one of ${LOG_RETENTION_DAYS.join(', ')}, got ${config.logRetentionDays}`,
    );
  }
  if (config.openaiBaseUrl !== undefined && !/^https:\/\/[^\s]+\/v1$/.test(config.openaiBaseUrl)) {
    problems.add(`openaiBaseUrl must be an https:// URL ending in /v1, got "${config.openaiBaseUrl}"`);
  }
}
