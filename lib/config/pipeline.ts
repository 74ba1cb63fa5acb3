import { SettingsProblems } from '../constructs/settings';

/**
 * The opt-in CDK Pipelines app (`bin/pipeline.ts`, docs/deploying.md "Deploying with the pipeline").
 * Forkers: replace the placeholders; they synthesize offline but cannot deploy.
 */
export interface PipelineConfig {
  /** Account and region of the pipeline stack (a tooling account; the stages keep their own). */
  readonly env: { readonly account: string; readonly region: string };
  /** `owner/name` of the repository the pipeline builds. */
  readonly repository: string;
  /** Branch whose pushes start the pipeline. */
  readonly branch: string;
  /** ARN of the CodeConnections (CodeStar) connection to the repository host, in the pipeline's account. */
  readonly connectionArn: string;
}

export const pipelineConfig: PipelineConfig = {
  env: { account: '333333333333', region: 'us-east-1' },
  repository: 'your-org/openai-production-blueprint',
  branch: 'main',
  connectionArn:
    'arn:aws:codeconnections:us-east-1:333333333333:connection/00000000-0000-0000-0000-000000000000',
};

const CONNECTION_ARN =
  /^arn:aws:(codestar-connections|codeconnections):[a-z0-9-]+:\d{12}:connection\/[\w-]+$/;

/** Every problem of a pipeline config at once, as one error (`SettingsError`, led by "pipeline config"). */
export function validatePipelineConfig(config: PipelineConfig): PipelineConfig {
  const problems = new SettingsProblems();
  const { account } = config.env;
  problems.expect(/^\d{12}$/.test(account), () => `env.account must be 12 digits, got "${account}"`);
  problems.expect(
    /^[\w.-]+\/[\w.-]+$/.test(config.repository),
    () => `repository must be "owner/name", got "${config.repository}"`,
  );
  problems.expect(config.branch.trim() !== '', () => 'branch must not be empty');
  problems.expect(
    CONNECTION_ARN.test(config.connectionArn),
    () => `connectionArn must be a CodeConnections connection ARN, got "${config.connectionArn}"`,
  );
  problems.throwIfAny('pipeline config');
  return config;
}
