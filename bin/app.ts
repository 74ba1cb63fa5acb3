#!/usr/bin/env node
/**
 * The CDK app: one Stage per environment. `cdk deploy 'Staging/*'` or `cdk deploy 'Production/*'`.
 * Synth needs no AWS credentials, no Docker and no network: the gateway is bundled here with esbuild,
 * the handlers with the local esbuild, and AZ lookups come from cdk.context.json. Every compliance pack
 * of lib/compliance.ts runs at synth (cdk.json context `compliance` switches one off): an
 * unacknowledged finding fails it.
 */
import { App } from 'aws-cdk-lib';
import { join } from 'node:path';
import { bundleGateway } from '../service/main/build';
import { addComplianceChecks } from '../lib/compliance';
import { productionConfig, stagingConfig } from '../lib/config';
import { GatewayStage } from '../lib/stages/gateway-stage';

const repoRoot = join(__dirname, '..');
const gatewayImageDirectory = join(repoRoot, 'dist', 'gateway');
bundleGateway(gatewayImageDirectory);

const app = new App();
addComplianceChecks(app);
for (const config of [stagingConfig, productionConfig]) {
  new GatewayStage(app, { config, gatewayImageDirectory, lambdaRoot: join(repoRoot, 'lambda') });
}
app.synth();
