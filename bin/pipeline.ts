#!/usr/bin/env node
/**
 * The opt-in CDK Pipelines app: `npm run synth:pipeline`, deployed once with
 * `cdk deploy -a 'npx ts-node --prefer-ts-exts bin/pipeline.ts' Pipeline` (docs/deploying.md); from then
 * on the pipeline deploys Staging and Production, and updates itself. Synth is offline like bin/app.ts.
 */
import { App } from 'aws-cdk-lib';
import { addPipeline, bundledStageSources } from '../lib/apps';
import { addComplianceChecks } from '../lib/compliance';

const app = new App();
addComplianceChecks(app);
addPipeline(app, bundledStageSources());
app.synth();
