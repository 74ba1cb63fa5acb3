#!/usr/bin/env node
/**
 * The opt-in CDK Pipelines app: `npm run synth:pipeline`, deployed once with
 * `cdk deploy -a 'npx ts-node --prefer-ts-exts bin/pipeline.ts' Pipeline` (docs/deploying.md); from then
 * on the pipeline deploys Staging and Production, and updates itself. Synth is offline like bin/app.ts.
 */
import { App } from 'aws-cdk-lib';
import { join } from 'node:path';
import { addComplianceChecks } from '../lib/compliance';
import { bundleGateway } from '../service/main/build';
import { productionConfig, stagingConfig } from '../lib/config';
import { pipelineConfig } from '../lib/config/pipeline';
import { GatewayPipelineStack } from '../lib/pipeline/gateway-pipeline-stack';

const repoRoot = join(__dirname, '..');
const gatewayImageDirectory = join(repoRoot, 'dist', 'gateway');
bundleGateway(gatewayImageDirectory);

const app = new App();
addComplianceChecks(app);
new GatewayPipelineStack(app, 'Pipeline', {
  config: pipelineConfig,
  staging: stagingConfig,
  production: productionConfig,
  gatewayImageDirectory,
  lambdaRoot: join(repoRoot, 'lambda'),
});
app.synth();
