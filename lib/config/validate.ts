import {
  GatewayConfig,
  GatewayConfigError,
  parseGatewayConfig,
  resolveModel,
} from '../../runtime/gateway-config';
import { MAX_STOP_TIMEOUT_SECONDS, SHUTDOWN_MARGIN_MS } from '../constructs/gateway-service/gateway-service';
import { checkNetworkSettings } from '../constructs/network/network';
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

/** Fargate CPU units to the memory sizes (MiB) Fargate accepts with them. */
const FARGATE_MEMORY: Readonly<Record<number, (memoryMiB: number) => boolean>> = {
  256: (m) => [512, 1024, 2048].includes(m),
  512: (m) => m >= 1024 && m <= 4096 && m % 1024 === 0,
  1024: (m) => m >= 2048 && m <= 8192 && m % 1024 === 0,
  2048: (m) => m >= 4096 && m <= 16384 && m % 1024 === 0,
  4096: (m) => m >= 8192 && m <= 30720 && m % 1024 === 0,
};

/** Retention periods CloudWatch Logs accepts. */
const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

const ACCOUNT_ID = /^\d{12}$/;
const STAGE_NAME = /^[A-Z][A-Za-z0-9]{0,31}$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const CIDR = /^(\d{1,3}\.){3}\d{1,3}\/\d{1,2}$/;

const SHUTDOWN_MARGIN_SECONDS = SHUTDOWN_MARGIN_MS / 1000;

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
  checkService(config, problems);
  checkCache(config, problems);
  checkHandlers(config, problems);
  checkOperations(config, problems);
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
  const fail = (message: string): void => problems.add(message);
  gateway.clients.forEach((client, i) => {
    if (client.rpm > gateway.rateLimits.rpm) {
      fail(
        `gateway.clients[${i}].rpm (${client.rpm}) must not exceed gateway.rateLimits.rpm (${gateway.rateLimits.rpm})`,
      );
    }
    if (client.tpm > gateway.rateLimits.tpm) {
      fail(
        `gateway.clients[${i}].tpm (${client.tpm}) must not exceed gateway.rateLimits.tpm (${gateway.rateLimits.tpm})`,
      );
    }
    if (gateway.limits.maxTokens > client.tpm) {
      fail(
        `gateway.limits.maxTokens (${gateway.limits.maxTokens}) must not exceed gateway.clients[${i}].tpm (${client.tpm}): ` +
          'a request at the cap could never be admitted',
      );
    }
  });
  const { tpm, burstSeconds } = gateway.rateLimits;
  const stageTokenBurst = Math.floor((tpm * burstSeconds) / 60);
  if (gateway.limits.maxTokens > stageTokenBurst) {
    fail(
      `gateway.limits.maxTokens (${gateway.limits.maxTokens}) must not exceed what gateway.rateLimits.tpm allows in ` +
        `one burst of gateway.rateLimits.burstSeconds (${stageTokenBurst}): a request at the cap could never be admitted`,
    );
  }
}

function checkResilience(config: StageConfig, problems: SettingsProblems): void {
  const fail = (message: string): void => problems.add(message);
  const r = config.resilience;
  if (r.removalPolicy !== 'retain' && r.removalPolicy !== 'destroy')
    fail(`resilience.removalPolicy must be "retain" or "destroy", got "${String(r.removalPolicy)}"`);
  if (!Number.isInteger(r.accessLogDays) || r.accessLogDays < 1)
    fail(`resilience.accessLogDays must be a positive integer, got ${r.accessLogDays}`);
}

function checkService(config: StageConfig, problems: SettingsProblems): void {
  const fail = (message: string): void => problems.add(message);
  const s = config.service;
  const memoryFits = FARGATE_MEMORY[s.cpu];
  if (!memoryFits) fail(`service.cpu must be one of ${Object.keys(FARGATE_MEMORY).join(', ')}, got ${s.cpu}`);
  else if (!memoryFits(s.memoryMiB))
    fail(`service.memoryMiB ${s.memoryMiB} is not a Fargate size for service.cpu ${s.cpu}`);
  if (!Number.isInteger(s.minTasks) || s.minTasks < 1)
    fail(`service.minTasks must be an integer of at least 1, got ${s.minTasks}`);
  if (!Number.isInteger(s.maxTasks) || s.maxTasks < s.minTasks) {
    fail(`service.maxTasks (${s.maxTasks}) must be an integer of at least service.minTasks (${s.minTasks})`);
  }
  if (s.targetCpuPercent < 10 || s.targetCpuPercent > 90) {
    fail(`service.targetCpuPercent must be from 10 to 90, got ${s.targetCpuPercent}`);
  }
  if (!Number.isInteger(s.targetRequestsPerTarget) || s.targetRequestsPerTarget < 1) {
    fail(`service.targetRequestsPerTarget must be a positive integer, got ${s.targetRequestsPerTarget}`);
  }
  if (s.internetFacing && !s.certificateArn) {
    fail(
      'service.certificateArn is required when service.internetFacing is true: callers send API keys in every request',
    );
  }
  if (s.certificateArn !== undefined) {
    const match = /^arn:aws:acm:([a-z0-9-]+):(\d{12}):certificate\/[A-Za-z0-9-]+$/.exec(s.certificateArn);
    if (!match) fail(`service.certificateArn must be an ACM certificate ARN, got "${s.certificateArn}"`);
    else if (match[1] !== config.env.region || match[2] !== config.env.account) {
      fail(
        `service.certificateArn must be in the stage's account ${config.env.account} and region ${config.env.region}`,
      );
    }
  }
  if (s.ingressCidrs.length === 0) fail('service.ingressCidrs must name at least one CIDR range');
  s.ingressCidrs.forEach((cidr, i) => {
    if (!CIDR.test(cidr))
      fail(`service.ingressCidrs[${i}] must be an IPv4 CIDR such as 10.0.0.0/8, got "${cidr}"`);
  });
  if (!Number.isInteger(s.idleTimeoutSeconds) || s.idleTimeoutSeconds < 60 || s.idleTimeoutSeconds > 4000) {
    fail(`service.idleTimeoutSeconds must be an integer from 60 to 4000, got ${s.idleTimeoutSeconds}`);
  }
  if (
    !Number.isInteger(s.stopTimeoutSeconds) ||
    s.stopTimeoutSeconds <= SHUTDOWN_MARGIN_SECONDS ||
    s.stopTimeoutSeconds > MAX_STOP_TIMEOUT_SECONDS
  ) {
    fail(
      `service.stopTimeoutSeconds must be an integer above ${SHUTDOWN_MARGIN_SECONDS} and at most ${MAX_STOP_TIMEOUT_SECONDS}, got ${s.stopTimeoutSeconds}`,
    );
  }
  if (
    !Number.isInteger(s.deregistrationDelaySeconds) ||
    s.deregistrationDelaySeconds < 0 ||
    s.deregistrationDelaySeconds > 3600
  ) {
    fail(
      `service.deregistrationDelaySeconds must be an integer from 0 to 3600, got ${s.deregistrationDelaySeconds}`,
    );
  }
  if (!Number.isInteger(s.wafRequestsPer5MinPerIp) || s.wafRequestsPer5MinPerIp < 10) {
    fail(
      `service.wafRequestsPer5MinPerIp must be an integer of at least 10 (the WAF minimum), got ${s.wafRequestsPer5MinPerIp}`,
    );
  }
}

function checkCache(config: StageConfig, problems: SettingsProblems): void {
  const fail = (message: string): void => problems.add(message);
  const c = config.cache;
  if (!/^cache\.[a-z0-9]+\.[a-z0-9]+$/.test(c.nodeType))
    fail(`cache.nodeType must look like cache.t4g.micro, got "${c.nodeType}"`);
  if (!Number.isInteger(c.nodes) || c.nodes < 1 || c.nodes > 6)
    fail(`cache.nodes must be an integer from 1 to 6, got ${c.nodes}`);
  if (
    !Number.isInteger(c.snapshotRetentionDays) ||
    c.snapshotRetentionDays < 0 ||
    c.snapshotRetentionDays > 35
  ) {
    fail(`cache.snapshotRetentionDays must be an integer from 0 to 35, got ${c.snapshotRetentionDays}`);
  }
}

function checkHandlers(config: StageConfig, problems: SettingsProblems): void {
  const fail = (message: string): void => problems.add(message);
  const h = config.handlers;
  if (!Number.isInteger(h.keyRotationDays) || h.keyRotationDays < 1 || h.keyRotationDays > 1000) {
    fail(`handlers.keyRotationDays must be an integer from 1 to 1000, got ${h.keyRotationDays}`);
  }
  for (const field of ['batchInputRetentionDays', 'batchOutputRetentionDays'] as const) {
    if (!Number.isInteger(h[field]) || h[field] < 1)
      fail(`handlers.${field} must be a positive integer, got ${h[field]}`);
  }
}

function checkOperations(config: StageConfig, problems: SettingsProblems): void {
  const fail = (message: string): void => problems.add(message);
  const { emails, pagerUrl } = config.onCall;
  if (emails.length === 0 && pagerUrl === undefined)
    fail('onCall must name at least one email or a pagerUrl');
  emails.forEach((email, i) => {
    if (!EMAIL.test(email)) fail(`onCall.emails[${i}] must be an email address, got "${email}"`);
  });
  if (pagerUrl !== undefined && !/^https:\/\/[^\s/]+/.test(pagerUrl))
    fail(`onCall.pagerUrl must be an https:// URL, got "${pagerUrl}"`);
  const b = config.infraBudget;
  if (!(b.monthlyUsd > 0)) fail(`infraBudget.monthlyUsd must be above 0, got ${b.monthlyUsd}`);
  if (!(b.notifyAtPercent >= 1 && b.notifyAtPercent <= 100)) {
    fail(`infraBudget.notifyAtPercent must be from 1 to 100, got ${b.notifyAtPercent}`);
  }
  if (!LOG_RETENTION_DAYS.includes(config.logRetentionDays)) {
    fail(`logRetentionDays must be one of ${LOG_RETENTION_DAYS.join(', ')}, got ${config.logRetentionDays}`);
  }
  if (config.openaiBaseUrl !== undefined && !/^https:\/\/[^\s]+\/v1$/.test(config.openaiBaseUrl)) {
    fail(`openaiBaseUrl must be an https:// URL ending in /v1, got "${config.openaiBaseUrl}"`);
  }
}
