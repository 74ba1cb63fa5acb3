#!/usr/bin/env node
/**
 * The CDK app: one Stage per environment. `cdk deploy 'Staging/*'` or `cdk deploy 'Production/*'`.
 * Synth needs no AWS credentials, no Docker and no network: the gateway is bundled here with esbuild,
 * the handlers with the local esbuild, and AZ lookups come from cdk.context.json. Every compliance pack
 * of lib/compliance.ts runs at synth (cdk.json context `compliance` switches one off): an
 * unacknowledged finding fails it.
 */
import { App } from 'aws-cdk-lib';
import { addStages, bundledStageSources } from '../lib/apps';
import { addComplianceChecks } from '../lib/compliance';

const app = new App();
addComplianceChecks(app);
addStages(app, bundledStageSources());
app.synth();
