import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { SHARED_ACKNOWLEDGMENTS, acknowledge } from '../../acknowledgments';
import { denyGrantsExceptForAwsResources } from '../secrets/key-policy';

export interface OnCallTopicProps {
  /** Stage name, in the topic's display name. */
  readonly stage: string;
  /** Email addresses to subscribe (each confirms by email). */
  readonly emails: readonly string[];
  /**
   * HTTPS endpoint of the paging service.
   * @default none
   */
  readonly pagerUrl?: string;
  /**
   * What happens to the topic's key when the stack is deleted.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * Services that must use the topic's key: CloudWatch and AWS Budgets publish to the topic, SNS moves
 * undeliverable notifications to the dead-letter queue, which the same key encrypts.
 */
const KEY_USING_SERVICES = [
  'cloudwatch.amazonaws.com',
  'budgets.amazonaws.com',
  'sns.amazonaws.com',
] as const;

/**
 * The stage's one on-call SNS topic. It is encrypted with a customer-managed key whose policy lets
 * CloudWatch and AWS Budgets use it (neither can publish to a topic under the AWS managed SNS key),
 * refuses non-TLS publishers, and lets AWS Budgets of this account publish. A notification no
 * subscription endpoint took (the pager down, an email bouncing) goes to `deadLetterQueue`, whose depth
 * is alarmed, instead of being dropped after SNS's retries.
 */
export class OnCallTopic extends Construct {
  readonly topic: sns.Topic;
  readonly key: kms.Key;
  readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: OnCallTopicProps) {
    super(scope, id);
    if (props.emails.length === 0 && !props.pagerUrl)
      throw new Error('OnCallTopic: name at least one email or a pagerUrl');
    if (props.pagerUrl !== undefined && !props.pagerUrl.startsWith('https://')) {
      throw new Error(`OnCallTopic: pagerUrl must be an https:// URL, got "${props.pagerUrl}"`);
    }
    this.key = new kms.Key(this, 'Key', {
      description: `${props.stage}: encrypts the on-call topic`,
      enableKeyRotation: true,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    denyGrantsExceptForAwsResources(this.key);
    for (const service of KEY_USING_SERVICES) {
      this.key.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: `Allow${service.split('.')[0]}ToPublishEncrypted`,
          principals: [new iam.ServicePrincipal(service)],
          actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          resources: ['*'],
        }),
      );
    }
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetters', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: this.key,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      // A dead-letter queue of SNS subscriptions, never of another queue.
      redriveAllowPolicy: { redrivePermission: sqs.RedrivePermission.DENY_ALL },
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    acknowledge(this.deadLetterQueue, SHARED_ACKNOWLEDGMENTS.deadLetterQueueItself);

    this.topic = new sns.Topic(this, 'Topic', {
      displayName: `${props.stage} on-call`,
      masterKey: this.key,
      enforceSSL: true,
    });
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowBudgetsToPublish',
        principals: [new iam.ServicePrincipal('budgets.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: { StringEquals: { 'aws:SourceAccount': this.topic.env.account } },
      }),
    );
    const deadLetterQueue = this.deadLetterQueue;
    for (const email of props.emails)
      this.topic.addSubscription(new subscriptions.EmailSubscription(email, { deadLetterQueue }));
    if (props.pagerUrl) {
      this.topic.addSubscription(
        new subscriptions.UrlSubscription(props.pagerUrl, {
          protocol: sns.SubscriptionProtocol.HTTPS,
          deadLetterQueue,
        }),
      );
    }
  }
}
