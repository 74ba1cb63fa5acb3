import type { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import type { DescribeSecretCommandOutput, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SecretsManagerRotationEvent } from 'aws-lambda';
import { HandlerEnv } from '../../runtime/handler-env';
import { RotationMetric } from '../../runtime/metric-names';
import { createOpenAIClient } from '../../runtime/openai-client';
import { requiredEnv } from '../shared/env';
import { secretsManagerSdk as sdk } from '../shared/aws-sdk';
import { describeFailure, isUnauthorized } from '../shared/failure';
import { ServiceAccounts, serviceAccountName } from './service-accounts';

const CURRENT = 'AWSCURRENT';
const PENDING = 'AWSPENDING';
const PREVIOUS = 'AWSPREVIOUS';

export interface RotationDeps {
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** The Secrets Manager client, created on first use. */
  readonly secrets: () => Promise<SecretsManagerClient>;
  readonly stage: string;
  /** Calls `testSecret` makes before it gives up on a 401 (a new key can take a moment to work). @default 3 */
  readonly testAttempts?: number;
  /** Pause between those calls, ms. @default 2000 */
  readonly testRetryDelayMs?: number;
}

/** The rotation was asked for something Secrets Manager's protocol does not allow. */
export class RotationStateError extends Error {
  override readonly name = 'RotationStateError';
}

/** The value a rotation stores: the key and the service account that owns it. */
export interface ProjectKeySecret {
  readonly apiKey: string;
  readonly serviceAccountId?: string;
}

/**
 * One step of a Secrets Manager rotation of the project API key. Each step is idempotent, since
 * Secrets Manager retries a failed step; a failure is logged, counted as `KeyRotationFailure` and
 * rethrown so the rotation is marked failed, which leaves AWSCURRENT (the key in use) untouched.
 */
export async function rotateStep(event: SecretsManagerRotationEvent, deps: RotationDeps): Promise<void> {
  const { logger, metrics } = deps;
  const { Step: step, SecretId: secretId, ClientRequestToken: token } = event;
  logger.appendKeys({ rotationStep: step });
  try {
    const { DescribeSecretCommand } = sdk();
    const described = await (await deps.secrets()).send(new DescribeSecretCommand({ SecretId: secretId }));
    const stages = checkVersion(described, token);
    if (stages.includes(CURRENT) && step !== 'finishSecret') {
      logger.info('version is already AWSCURRENT; nothing to do');
      return;
    }
    switch (step) {
      case 'createSecret':
        return await createSecret(secretId, token, deps);
      case 'setSecret':
        // A service account key is live the moment OpenAI creates it: there is no second system to update.
        logger.info('setSecret: nothing to do for OpenAI keys');
        return;
      case 'testSecret':
        return await testSecret(secretId, token, deps);
      case 'finishSecret':
        await finishSecret(secretId, token, described, deps);
        metrics.addMetric(RotationMetric.success, MetricUnit.Count, 1);
        return;
      default:
        throw new RotationStateError(`unknown rotation step "${String(step)}"`);
    }
  } catch (err) {
    logger.error('key rotation step failed', { ...describeFailure(err), errorName: (err as Error)?.name });
    metrics.addMetric(RotationMetric.failure, MetricUnit.Count, 1);
    throw err;
  } finally {
    logger.removeKeys(['rotationStep']);
  }
}

function checkVersion(described: DescribeSecretCommandOutput, token: string): string[] {
  if (described.RotationEnabled === false)
    throw new RotationStateError('rotation is not enabled on the secret');
  const stages = described.VersionIdsToStages?.[token];
  if (!stages) throw new RotationStateError(`secret has no version ${token}`);
  if (!stages.includes(CURRENT) && !stages.includes(PENDING)) {
    throw new RotationStateError(`version ${token} is neither AWSCURRENT nor AWSPENDING`);
  }
  return stages;
}

async function createSecret(secretId: string, token: string, deps: RotationDeps): Promise<void> {
  const { logger } = deps;
  const secrets = await deps.secrets();
  const { GetSecretValueCommand, PutSecretValueCommand } = sdk();
  if (await readVersion(secrets, secretId, token, PENDING)) {
    logger.info('createSecret: pending version already stored');
    return;
  }
  const accounts = await serviceAccounts();
  const name = serviceAccountName(deps.stage, token);
  // An earlier attempt may have created the account and then failed to store its key: that key is lost.
  for (const orphan of await accounts.findByName(name)) {
    await accounts.delete(orphan);
    logger.warn('deleted a service account left by an earlier createSecret attempt', {
      serviceAccountId: orphan,
    });
  }
  // The new key does not derive from the current one, so an empty secret (a new stage) is no obstacle:
  // its first rotation creates its first key.
  if (!(await hasCurrentValue(secrets, secretId, GetSecretValueCommand))) {
    logger.info('createSecret: the secret has no current value yet; creating its first key');
  }
  const created = await accounts.create(name);
  const value: ProjectKeySecret = { apiKey: created.apiKey, serviceAccountId: created.id };
  try {
    await secrets.send(
      new PutSecretValueCommand({
        SecretId: secretId,
        ClientRequestToken: token,
        SecretString: JSON.stringify(value),
        VersionStages: [PENDING],
      }),
    );
  } catch (err) {
    await accounts.delete(created.id).catch(() => undefined);
    throw err;
  }
  logger.info('createSecret: new service account key stored as AWSPENDING', { serviceAccountId: created.id });
}

async function testSecret(secretId: string, token: string, deps: RotationDeps): Promise<void> {
  const { logger } = deps;
  const pending = await readVersion(await deps.secrets(), secretId, token, PENDING);
  if (!pending)
    throw new RotationStateError(`no AWSPENDING value for version ${token}; run createSecret first`);
  const attempts = deps.testAttempts ?? 3;
  const client = await createOpenAIClient({ apiKey: pending.apiKey, timeoutMs: 10_000, maxRetries: 2 });
  for (let attempt = 1; ; attempt++) {
    try {
      // The cheapest authenticated call: one page of the model list, no tokens.
      await client.models.list();
      logger.info('testSecret: pending key works', { attempt });
      return;
    } catch (err) {
      if (!isUnauthorized(err) || attempt >= attempts) throw err;
      logger.warn('testSecret: pending key got 401; waiting before the next attempt', { attempt });
      await new Promise((resolve) => setTimeout(resolve, deps.testRetryDelayMs ?? 2000));
    }
  }
}

async function finishSecret(
  secretId: string,
  token: string,
  described: DescribeSecretCommandOutput,
  deps: RotationDeps,
): Promise<void> {
  const { logger } = deps;
  const secrets = await deps.secrets();
  const { UpdateSecretVersionStageCommand } = sdk();
  const versions = described.VersionIdsToStages ?? {};
  const versionWith = (stage: string) => Object.keys(versions).find((id) => versions[id]?.includes(stage));
  const current = versionWith(CURRENT);
  let previous: string | undefined;
  if (current === token) {
    // Promoted by an earlier attempt; it may have failed before deleting the old account.
    previous = versionWith(PREVIOUS);
  } else {
    await secrets.send(
      new UpdateSecretVersionStageCommand({
        SecretId: secretId,
        VersionStage: CURRENT,
        MoveToVersionId: token,
        ...(current ? { RemoveFromVersionId: current } : {}),
      }),
    );
    logger.info('finishSecret: new key promoted to AWSCURRENT', { previousVersion: current });
    previous = current;
  }
  if (!previous || previous === token) return;

  const promoted = await readVersion(secrets, secretId, token);
  const old = await readVersion(secrets, secretId, previous);
  if (!old?.serviceAccountId) {
    logger.warn('the previous key names no service account; revoke it by hand in the OpenAI dashboard', {
      previousVersion: previous,
    });
    return;
  }
  if (old.serviceAccountId === promoted?.serviceAccountId) return;
  const deleted = await (await serviceAccounts()).delete(old.serviceAccountId);
  logger.info('finishSecret: previous service account deleted', {
    serviceAccountId: old.serviceAccountId,
    alreadyGone: !deleted,
  });
}

async function serviceAccounts(): Promise<ServiceAccounts> {
  const admin = await createOpenAIClient({ kind: 'admin', timeoutMs: 30_000, maxRetries: 2 });
  return new ServiceAccounts(admin, requiredEnv(HandlerEnv.openaiProject));
}

async function hasCurrentValue(
  secrets: SecretsManagerClient,
  secretId: string,
  command: ReturnType<typeof sdk>['GetSecretValueCommand'],
): Promise<boolean> {
  try {
    await secrets.send(new command({ SecretId: secretId, VersionStage: CURRENT }));
    return true;
  } catch (err) {
    if ((err as Error)?.name === 'ResourceNotFoundException') return false;
    throw err;
  }
}

/** The key stored in one version, or undefined when that version (at that stage) does not exist. */
async function readVersion(
  secrets: SecretsManagerClient,
  secretId: string,
  versionId: string,
  versionStage?: string,
): Promise<ProjectKeySecret | undefined> {
  const { GetSecretValueCommand } = sdk();
  const { secretField, SecretField } = await import('../../runtime/secrets');
  let text: string | undefined;
  try {
    const out = await secrets.send(
      new GetSecretValueCommand({
        SecretId: secretId,
        VersionId: versionId,
        ...(versionStage ? { VersionStage: versionStage } : {}),
      }),
    );
    text = out.SecretString;
  } catch (err) {
    if ((err as Error)?.name === 'ResourceNotFoundException') return undefined;
    throw err;
  }
  if (!text) return undefined;
  const apiKey = secretField(text, SecretField.apiKey, secretId);
  const serviceAccountId = parseServiceAccountId(text);
  return serviceAccountId ? { apiKey, serviceAccountId } : { apiKey };
}

function parseServiceAccountId(text: string): string | undefined {
  if (!text.trim().startsWith('{')) return undefined;
  try {
    const id = (JSON.parse(text) as Record<string, unknown>).serviceAccountId;
    return typeof id === 'string' && id.length > 0 ? id : undefined;
  } catch {
    return undefined;
  }
}
