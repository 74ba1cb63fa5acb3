import { App, CfnElement, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { Construct } from 'constructs';
import { SpendLedger } from '../../../lib/constructs/spend-ledger/spend-ledger';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Json = Record<string, any>;

const env = { account: '111111111111', region: 'us-east-1' };

interface Synthesized {
  readonly template: Template;
  readonly json: Json;
  readonly ids: {
    readonly table: string;
    readonly key: string;
    readonly gateway: string;
    readonly reconciliation: string;
  };
}

/** A stack with a key, the ledger and two roles granted as the stage grants them, synthesized with cdk-nag. */
function synth(removalPolicy?: RemovalPolicy, deletionProtection?: boolean): Synthesized {
  const app = new App();
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const stack = new Stack(app, 'Test', { env });
  const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
  const ledger = new SpendLedger(stack, 'Ledger', { encryptionKey: key, removalPolicy, deletionProtection });
  const role = (id: string) =>
    new iam.Role(stack, id, { assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com') });
  const gateway = role('GatewayRole');
  const reconciliation = role('ReconciliationRole');
  ledger.grantGatewayAccess(gateway);
  ledger.grantReconciliation(reconciliation);
  // Throws on any unacknowledged AwsSolutions finding.
  app.synth();
  const template = Template.fromStack(stack);
  const logicalId = (construct: Construct): string =>
    stack.getLogicalId(construct.node.defaultChild as CfnElement);
  return {
    template,
    json: template.toJSON(),
    ids: {
      table: logicalId(ledger.table),
      key: logicalId(key),
      gateway: logicalId(gateway),
      reconciliation: logicalId(reconciliation),
    },
  };
}

/** The policy statements attached to the role with logical ID `roleId`. */
const statementsOf = (s: Synthesized, roleId: string): Json[] =>
  Object.values(s.json.Resources as Json)
    .filter(
      (r: Json) =>
        r.Type === 'AWS::IAM::Policy' && r.Properties.Roles.some((ref: Json) => ref.Ref === roleId),
    )
    .flatMap((r: Json) => r.Properties.PolicyDocument.Statement as Json[]);

const actionsOf = (statement: Json): string[] => [statement.Action].flat();

describe('SpendLedger', () => {
  const retained = synth(RemovalPolicy.RETAIN);
  const destroyed = synth(RemovalPolicy.DESTROY, false);

  it('is one on-demand table keyed by month and scope, with point-in-time recovery', () => {
    retained.template.resourceCountIs('AWS::DynamoDB::Table', 1);
    retained.template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [
        { AttributeName: 'month', KeyType: 'HASH' },
        { AttributeName: 'scope', KeyType: 'RANGE' },
      ],
      AttributeDefinitions: [
        { AttributeName: 'month', AttributeType: 'S' },
        { AttributeName: 'scope', AttributeType: 'S' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
  });

  it('encrypts at rest with the given customer-managed key', () => {
    retained.template.hasResourceProperties('AWS::DynamoDB::Table', {
      SSESpecification: {
        SSEEnabled: true,
        SSEType: 'KMS',
        KMSMasterKeyId: { 'Fn::GetAtt': [retained.ids.key, 'Arn'] },
      },
    });
  });

  it('is retained and deletion-protected, or deleted and unprotected, as told', () => {
    const table = (s: Synthesized): Json => s.json.Resources[s.ids.table];
    expect(table(retained)).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    expect(table(retained).Properties.DeletionProtectionEnabled).toBe(true);
    expect(table(destroyed)).toMatchObject({ DeletionPolicy: 'Delete', UpdateReplacePolicy: 'Delete' });
    expect(table(destroyed).Properties.DeletionProtectionEnabled).toBe(false);
  });

  it('defaults to RETAIN and deletion protection, whatever the removal policy', () => {
    const defaults = synth().json.Resources[retained.ids.table];
    expect(defaults).toMatchObject({ DeletionPolicy: 'Retain' });
    expect(defaults.Properties.DeletionProtectionEnabled).toBe(true);
    const destroyedButProtected = synth(RemovalPolicy.DESTROY).json.Resources[retained.ids.table];
    expect(destroyedButProtected.Properties.DeletionProtectionEnabled).toBe(true);
  });

  const keyThroughDynamoDb = (s: Synthesized): Json => ({
    Effect: 'Allow',
    Action: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'],
    Resource: { 'Fn::GetAtt': [s.ids.key, 'Arn'] },
    Condition: { StringEquals: { 'kms:ViaService': 'dynamodb.us-east-1.amazonaws.com' } },
  });

  it('lets the gateway UpdateItem and Query this table, and use the key only through DynamoDB', () => {
    expect(statementsOf(retained, retained.ids.gateway)).toEqual([
      {
        Effect: 'Allow',
        Action: ['dynamodb:UpdateItem', 'dynamodb:Query'],
        Resource: { 'Fn::GetAtt': [retained.ids.table, 'Arn'] },
      },
      keyThroughDynamoDb(retained),
    ]);
  });

  it('lets reconciliation UpdateItem only', () => {
    expect(statementsOf(retained, retained.ids.reconciliation)).toEqual([
      {
        Effect: 'Allow',
        Action: 'dynamodb:UpdateItem',
        Resource: { 'Fn::GetAtt': [retained.ids.table, 'Arn'] },
      },
      keyThroughDynamoDb(retained),
    ]);
  });

  it('grants no wildcard action or resource to either role', () => {
    for (const roleId of [retained.ids.gateway, retained.ids.reconciliation]) {
      for (const statement of statementsOf(retained, roleId)) {
        expect(actionsOf(statement).filter((a) => a.endsWith('*'))).toEqual([]);
        expect(JSON.stringify(statement.Resource)).not.toContain('*');
      }
    }
  });
});
