import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { SpendLedgerKey } from '../../../runtime/spend-ledger-schema';
import { SHARED_ACKNOWLEDGMENTS, acknowledge } from '../../acknowledgments';

export interface SpendLedgerProps {
  /**
   * Customer-managed key that encrypts the table at rest; the grants add its use through DynamoDB.
   * @default the AWS managed key `aws/dynamodb`
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * What happens to the table when the stack is deleted.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Deletion protection of the table.
   * @default true
   */
  readonly deletionProtection?: boolean;
}

/**
 * The stage's durable spend ledger: month-to-date spend per client and for the whole stage, so budgets
 * survive the loss of every cache node (item shape in runtime/spend-ledger-schema.ts). On-demand, with
 * point-in-time recovery; retained and deletion-protected unless told otherwise.
 *
 * The gateway adds to `spentNanos` and reads the month back; spend reconciliation only raises
 * `billedNanos`. Neither may do anything else to the table: see the two grants.
 */
export class SpendLedger extends Construct {
  readonly table: dynamodb.Table;
  private readonly encryptionKey?: kms.IKey;

  constructor(scope: Construct, id: string, props: SpendLedgerProps) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    this.encryptionKey = props.encryptionKey;
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: SpendLedgerKey.month, type: dynamodb.AttributeType.STRING },
      sortKey: { name: SpendLedgerKey.scope, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      ...(props.encryptionKey
        ? { encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED, encryptionKey: props.encryptionKey }
        : { encryption: dynamodb.TableEncryption.AWS_MANAGED }),
      deletionProtection: props.deletionProtection ?? true,
      removalPolicy,
    });
    acknowledge(this.table, SHARED_ACKNOWLEDGMENTS.pitrInsteadOfBackupPlan);
  }

  get tableName(): string {
    return this.table.tableName;
  }

  /** The gateway: `ADD` to a scope's spend (UpdateItem) and read a month back (Query), on this table only. */
  grantGatewayAccess(grantee: iam.IGrantable): void {
    this.grant(grantee, ['dynamodb:UpdateItem', 'dynamodb:Query']);
  }

  /** Spend reconciliation: raise the stage's `billedNanos` (a conditional UpdateItem), nothing else. */
  grantReconciliation(grantee: iam.IGrantable): void {
    this.grant(grantee, ['dynamodb:UpdateItem']);
  }

  /**
   * Exactly `actions` on the table, and the key operations DynamoDB performs on the caller's behalf,
   * only through DynamoDB in this region (`kms:ViaService`): the role cannot use the stage key directly.
   * Not `table.grant()`: that adds DescribeTable and, with a key, the key's whole grant set.
   */
  private grant(grantee: iam.IGrantable, actions: string[]): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions, resources: [this.table.tableArn] }),
    );
    if (!this.encryptionKey) return;
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'],
        resources: [this.encryptionKey.keyArn],
        conditions: {
          StringEquals: { 'kms:ViaService': `dynamodb.${Stack.of(this).region}.amazonaws.com` },
        },
      }),
    );
  }
}
