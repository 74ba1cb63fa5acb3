import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { SHARED_ACKNOWLEDGMENTS, acknowledge } from '../../acknowledgments';
import { denyGrantsExceptForAwsResources } from '../secrets/key-policy';
import { SettingsProblems } from '../settings';

/** Who is told when something breaks: `StageConfig.onCall`. At least one email or a pager. */
export interface OnCallTopicSettings {
  /**
   * Email addresses subscribed to the on-call topic (each must confirm the subscription).
   * @default ['oncall@example.com']
   */
  readonly emails: readonly string[];
  /**
   * HTTPS endpoint of the paging service (PagerDuty, Opsgenie, ...) subscribed to the on-call topic.
   * @default none
   */
  readonly pagerUrl?: string;
}

/** What `lib/config/base.ts` starts every stage from: a placeholder address each stage replaces. */
export const DEFAULT_ON_CALL_TOPIC_SETTINGS: OnCallTopicSettings = { emails: ['oncall@example.com'] };

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const HTTPS_URL = /^https:\/\/[^\s/]+/;

/** Records every problem of `settings`. */
export function checkOnCallTopicSettings(settings: OnCallTopicSettings, problems: SettingsProblems): void {
  const { emails, pagerUrl } = settings;
  const f = (name: string) => problems.field(name);
  problems.expect(
    emails.length > 0 || pagerUrl !== undefined,
    () => `${f('emails')} must name at least one email when there is no ${f('pagerUrl')}`,
  );
  emails.forEach((email, i) =>
    problems.expect(EMAIL.test(email), () => `${f(`emails[${i}]`)} must be an email address, got "${email}"`),
  );
  if (pagerUrl !== undefined) {
    problems.expect(
      HTTPS_URL.test(pagerUrl),
      () => `${f('pagerUrl')} must be an https:// URL, got "${pagerUrl}"`,
    );
  }
}

export interface OnCallTopicProps {
  readonly settings: OnCallTopicSettings;
  /** Stage name, in the topic's display name. */
  readonly stage: string;
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
    const problems = new SettingsProblems();
    checkOnCallTopicSettings(props.settings, problems);
    problems.throwIfAny('OnCallTopic');
    const { emails, pagerUrl } = props.settings;
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
    for (const email of emails)
      this.topic.addSubscription(new subscriptions.EmailSubscription(email, { deadLetterQueue }));
    if (pagerUrl) {
      this.topic.addSubscription(
        new subscriptions.UrlSubscription(pagerUrl, {
          protocol: sns.SubscriptionProtocol.HTTPS,
          deadLetterQueue,
        }),
      );
    }
  }
}
