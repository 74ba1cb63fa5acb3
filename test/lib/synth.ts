import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addStages } from '../../lib/apps';
import { addComplianceChecks } from '../../lib/compliance';
import { StageConfig } from '../../lib/config';
import { GatewayStage } from '../../lib/stages/gateway-stage';

export const REPO_ROOT = join(__dirname, '..', '..');
/** The gateway bundle the jest global setup builds (the same `bundleGateway` the CDK app calls). */
export const GATEWAY_IMAGE_DIRECTORY = join(REPO_ROOT, 'dist', 'gateway');
export const LAMBDA_ROOT = join(REPO_ROOT, 'lambda');

/** The context of cdk.json (feature flags) and cdk.context.json (AZ lookups), as `cdk synth` sees them. */
export function cdkContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(join(REPO_ROOT, 'cdk.json'), 'utf8')) as {
    context: Record<string, unknown>;
  };
  const lookups = JSON.parse(readFileSync(join(REPO_ROOT, 'cdk.context.json'), 'utf8')) as Record<
    string,
    unknown
  >;
  return { ...cdkJson.context, ...lookups };
}

/**
 * A new App like bin/app.ts's: cdk.json context (plus `context`), the compliance packs it enables, a
 * throwaway outdir.
 */
export function newApp(context: Record<string, unknown> = {}): App {
  const app = new App({
    context: { ...cdkContext(), ...context },
    outdir: mkdtempSync(join(tmpdir(), 'cdk-test-')),
  });
  addComplianceChecks(app);
  return app;
}

export interface SynthesizedStage extends Synthesized {
  readonly stage: GatewayStage;
}

/**
 * Synthesizes the given stages in one App, with every compliance pack: `app.synth()` throws on any
 * unacknowledged finding, so getting here means the stages are clean in all of them.
 */
export function synthStages(...configs: StageConfig[]): SynthesizedStage[] {
  const app = newApp();
  const stages = addStages(
    app,
    { gatewayImageDirectory: GATEWAY_IMAGE_DIRECTORY, lambdaRoot: LAMBDA_ROOT },
    configs,
  );
  app.synth();
  return stages.map((stage) => {
    const template = Template.fromStack(stage.gatewayStack);
    return { stage, template, json: template.toJSON() };
  });
}

/** A stack of its own for one construct's test, in an app like bin/app.ts's (context, compliance packs). */
export function constructStack(id = 'Test'): Stack {
  return new Stack(newApp(), id, { env: { account: '111111111111', region: 'us-east-1' } });
}

/**
 * A KMS key the construct under test is given, imported: what a test stack makes beside the construct
 * is not under test, so it makes nothing that the compliance packs would judge.
 */
export const importedKey = (stack: Stack): kms.IKey =>
  kms.Key.fromKeyArn(
    stack,
    'ImportedKey',
    `arn:aws:kms:${stack.region}:${stack.account}:key/1234abcd-12ab-34cd-56ef-1234567890ab`,
  );

/** A VPC the construct under test is given, imported: two AZs, each with a public and a private subnet. */
export const importedVpc = (stack: Stack): ec2.IVpc =>
  ec2.Vpc.fromVpcAttributes(stack, 'ImportedVpc', {
    vpcId: 'vpc-0123456789abcdef0',
    vpcCidrBlock: '10.40.0.0/16',
    availabilityZones: ['us-east-1a', 'us-east-1b'],
    publicSubnetIds: ['subnet-0a0000000000000a1', 'subnet-0a0000000000000a2'],
    publicSubnetRouteTableIds: ['rtb-0a0000000000000a1', 'rtb-0a0000000000000a2'],
    privateSubnetIds: ['subnet-0b0000000000000b1', 'subnet-0b0000000000000b2'],
    privateSubnetRouteTableIds: ['rtb-0b0000000000000b1', 'rtb-0b0000000000000b2'],
  });

/** The ARN of the secret `importedSecret(stack, name)` imports. */
export const importedSecretArn = (stack: Stack, name: string): string =>
  `arn:aws:secretsmanager:${stack.region}:${stack.account}:secret:${name}-AbCdEf`;

/** A secret the construct under test is given, imported by its ARN (`importedSecretArn`). */
export const importedSecret = (stack: Stack, name: string): secretsmanager.ISecret =>
  secretsmanager.Secret.fromSecretCompleteArn(stack, `Imported${name}`, importedSecretArn(stack, name));

/** An SNS topic the construct under test is given, imported. */
export const importedTopic = (stack: Stack): sns.ITopic =>
  sns.Topic.fromTopicArn(stack, 'ImportedTopic', `arn:aws:sns:${stack.region}:${stack.account}:on-call`);

/**
 * The template of a construct test's stack, synthesized with every compliance pack: getting it means
 * the construct alone has no unacknowledged finding.
 */
export function synthConstruct(stack: Stack): Synthesized {
  const app = stack.node.root as App;
  app.synth();
  const template = Template.fromStack(stack);
  return { template, json: template.toJSON() };
}

/** A synthesized template as the assertions library and as plain JSON. */
export interface Synthesized {
  readonly template: Template;
  readonly json: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** `config` with some fields replaced, for validation tests. */
export function withChanges(config: StageConfig, changes: (c: Mutable<StageConfig>) => void): StageConfig {
  const copy = structuredClone(config) as Mutable<StageConfig>;
  changes(copy);
  return copy;
}

export type Mutable<T> = { -readonly [K in keyof T]: T[K] extends object ? Mutable<T[K]> : T[K] };

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Every resource of `type` in a synthesized template, as [logical ID, resource]. */
export const resourcesOf = (s: Synthesized, type: string): [string, Json][] =>
  Object.entries(s.json.Resources as Json).filter(([, r]) => (r as Json).Type === type) as [string, Json][];

/** The one resource of `type` (fails the test when there are none or several). */
export const onlyResource = (s: Synthesized, type: string): [string, Json] => {
  const found = resourcesOf(s, type);
  expect(found).toHaveLength(1);
  return found[0];
};

/** The logical ID of the one resource of `type` whose ID starts with `prefix`. */
export const logicalId = (s: Synthesized, type: string, prefix: string): string => {
  const ids = resourcesOf(s, type)
    .map(([id]) => id)
    .filter((id) => id.startsWith(prefix));
  expect(ids).toHaveLength(1);
  return ids[0];
};
