/**
 * Publishing a stage's gateway document to AWS AppConfig: a hosted configuration version holding the
 * whole validated document, then a deployment of it to the stage's environment. Names are resolved to
 * AppConfig's ids by listing, so the CLI takes what the CDK app names (or the ids themselves).
 *
 * The default strategy is AWS's predefined `AppConfig.AllAtOnce`: growth 100% with no deployment
 * duration, so the version is served to every task on its next poll (30 s by default) and a revocation
 * is live everywhere within a minute; its 10-minute bake only watches the environment's alarms for a
 * rollback afterwards. A linear or canary strategy would leave a revoked key working on part of the
 * fleet for the whole rollout.
 */
import {
  AppConfigClient,
  CreateHostedConfigurationVersionCommand,
  ListApplicationsCommand,
  ListConfigurationProfilesCommand,
  ListDeploymentStrategiesCommand,
  ListEnvironmentsCommand,
  StartDeploymentCommand,
} from '@aws-sdk/client-appconfig';
import { APPLICATION } from '../../lib/config/project';
import type { StageConfig } from '../../lib/config/types';

/** Where a stage's document is published. Each field is an AppConfig name or id. */
export interface AppConfigTarget {
  /** @default `<APPLICATION>-<Stage>`, e.g. `openai-blueprint-Staging` */
  readonly application: string;
  /** @default the stage name, e.g. `Staging` */
  readonly environment: string;
  /** The freeform configuration profile the gateway reads. @default `gateway` */
  readonly profile: string;
  /** @default DEFAULT_DEPLOYMENT_STRATEGY */
  readonly strategy: string;
}

/** AWS's predefined all-at-once strategy (see the module comment for why). */
export const DEFAULT_DEPLOYMENT_STRATEGY = 'AppConfig.AllAtOnce';

export function defaultTarget(stage: StageConfig): AppConfigTarget {
  return {
    application: `${APPLICATION}-${stage.name}`,
    environment: stage.name,
    profile: 'gateway',
    strategy: DEFAULT_DEPLOYMENT_STRATEGY,
  };
}

/** What a publish created. */
export interface Published {
  readonly applicationId: string;
  readonly environmentId: string;
  readonly profileId: string;
  readonly strategyId: string;
  readonly versionNumber: number;
  readonly versionLabel: string;
  readonly deploymentNumber: number;
}

/** A publish step failed; `step` says which, and `cause` is the SDK's error. */
export class PublishError extends Error {
  constructor(
    readonly step: string,
    cause: unknown,
  ) {
    const err = cause as { name?: string; message?: string };
    super(`AppConfig ${step} failed: ${err.name ?? 'Error'}: ${err.message ?? String(cause)}`, { cause });
    this.name = 'PublishError';
  }
}

interface Named {
  readonly Id?: string;
  readonly Name?: string;
}

/** The id of the item named (or with the id) `nameOrId`, across every page. */
async function resolveId(
  kind: string,
  nameOrId: string,
  page: (token: string | undefined) => Promise<{ Items?: Named[]; NextToken?: string }>,
): Promise<string> {
  let token: string | undefined;
  do {
    const answer = await page(token);
    const found = answer.Items?.find((i) => i.Id === nameOrId || i.Name === nameOrId);
    if (found?.Id !== undefined) return found.Id;
    token = answer.NextToken;
  } while (token !== undefined);
  throw new Error(`no AppConfig ${kind} named "${nameOrId}"`);
}

async function step<T>(name: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    throw new PublishError(name, err);
  }
}

/**
 * Creates a hosted configuration version with `content` (application/json) and deploys it.
 * @throws PublishError naming the step that failed
 */
export async function publishDocument(
  client: AppConfigClient,
  target: AppConfigTarget,
  content: string,
  versionLabel: string,
  description: string,
): Promise<Published> {
  const applicationId = await step('lookup of the application', () =>
    resolveId('application', target.application, (NextToken) =>
      client.send(new ListApplicationsCommand({ NextToken })),
    ),
  );
  const environmentId = await step('lookup of the environment', () =>
    resolveId('environment', target.environment, (NextToken) =>
      client.send(new ListEnvironmentsCommand({ ApplicationId: applicationId, NextToken })),
    ),
  );
  const profileId = await step('lookup of the configuration profile', () =>
    resolveId('configuration profile', target.profile, (NextToken) =>
      client.send(new ListConfigurationProfilesCommand({ ApplicationId: applicationId, NextToken })),
    ),
  );
  const strategyId = target.strategy.startsWith('AppConfig.')
    ? target.strategy
    : await step('lookup of the deployment strategy', () =>
        resolveId('deployment strategy', target.strategy, (NextToken) =>
          client.send(new ListDeploymentStrategiesCommand({ NextToken })),
        ),
      );
  const version = await step('CreateHostedConfigurationVersion', () =>
    client.send(
      new CreateHostedConfigurationVersionCommand({
        ApplicationId: applicationId,
        ConfigurationProfileId: profileId,
        Content: new TextEncoder().encode(content),
        ContentType: 'application/json',
        Description: description,
        VersionLabel: versionLabel,
      }),
    ),
  );
  if (version.VersionNumber === undefined)
    throw new PublishError(
      'CreateHostedConfigurationVersion',
      new Error('AppConfig returned no VersionNumber'),
    );
  const deployment = await step('StartDeployment', () =>
    client.send(
      new StartDeploymentCommand({
        ApplicationId: applicationId,
        EnvironmentId: environmentId,
        ConfigurationProfileId: profileId,
        ConfigurationVersion: String(version.VersionNumber),
        DeploymentStrategyId: strategyId,
        Description: description,
      }),
    ),
  );
  return {
    applicationId,
    environmentId,
    profileId,
    strategyId,
    versionNumber: version.VersionNumber,
    versionLabel,
    deploymentNumber: deployment.DeploymentNumber ?? 0,
  };
}
