/**
 * What each CDK app holds, in one place: `bin/app.ts` (the two stages), `bin/pipeline.ts` (the pipeline
 * that deploys them) and `npm run compliance` (either, to count findings) build their app from here.
 */
import { App } from 'aws-cdk-lib';
import { join } from 'node:path';
import { bundleGateway } from '../service/main/build';
import { productionConfig, STAGE_CONFIGS, stagingConfig } from './config';
import { pipelineConfig } from './config/pipeline';
import type { StageConfig } from './config/types';
import { GatewayPipelineStack } from './pipeline/gateway-pipeline-stack';
import { GatewayStage } from './stages/gateway-stage';

/** The folders every stage is built from. */
export interface StageSources {
  /** The gateway image's build context (`bundleGateway`'s output). */
  readonly gatewayImageDirectory: string;
  /** The folder with one `<handler>/index.ts` per Lambda handler. */
  readonly lambdaRoot: string;
}

const REPO_ROOT = join(__dirname, '..');

/** Bundles the gateway into `dist/gateway` with esbuild (no Docker) and names `lambda/`. */
export function bundledStageSources(): StageSources {
  const gatewayImageDirectory = join(REPO_ROOT, 'dist', 'gateway');
  bundleGateway(gatewayImageDirectory);
  return { gatewayImageDirectory, lambdaRoot: join(REPO_ROOT, 'lambda') };
}

/**
 * The deployable app's content: one `GatewayStage` per stage config.
 * @param configs @default STAGE_CONFIGS
 */
export function addStages(
  app: App,
  sources: StageSources,
  configs: readonly StageConfig[] = STAGE_CONFIGS,
): GatewayStage[] {
  return configs.map((config) => new GatewayStage(app, { config, ...sources }));
}

/** The pipeline app's content: the pipeline stack, which holds staging and production as its stages. */
export function addPipeline(app: App, sources: StageSources): GatewayPipelineStack {
  return new GatewayPipelineStack(app, 'Pipeline', {
    config: pipelineConfig,
    staging: stagingConfig,
    production: productionConfig,
    ...sources,
  });
}
