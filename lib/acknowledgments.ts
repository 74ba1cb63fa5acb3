import { Validations } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import { IConstruct } from 'constructs';

/** The cdk-nag packs beyond AwsSolutions, by the prefix of their rule ids. */
export const NAG_PACKS = {
  nist: 'NIST.800.53.R5',
  hipaa: 'HIPAA.Security',
  pci: 'PCI.DSS.321',
  serverless: 'Serverless',
} as const;
type NagPackName = keyof typeof NAG_PACKS;

/** The namespace aws-cdk-lib gives the Control Tower (cfn-guard) plugin's rules. */
const CONTROL_TOWER_NAMESPACE = 'cdk-validator-cfnguard';

/** The ids of one cdk-nag rule in the given packs, e.g. `nag('LambdaDLQ', 'nist', 'hipaa')`. */
export function nag(rule: string, ...packs: NagPackName[]): string[] {
  return packs.map((pack) => `${NAG_PACKS[pack]}-${rule}`);
}

/** The id of a Control Tower proactive control (its cfn-guard rule name), e.g. `controlTower('lambda_inside_vpc_check')`. */
export function controlTower(rule: string): string {
  return `${CONTROL_TOWER_NAMESPACE}::${rule}`;
}

/** A finding the design accepts, with the reason written once. */
export interface SharedAcknowledgment {
  /** Every rule id it covers, across packs. */
  readonly ids: readonly string[];
  /** Why the finding is acceptable here. */
  readonly reason: string;
}

/** Acknowledges every id of `acknowledgment` on `scope` (and so on what `scope` contains). */
export function acknowledge(scope: IConstruct, acknowledgment: SharedAcknowledgment): void {
  Validations.of(scope).acknowledge(
    ...acknowledgment.ids.map((id) => ({ id, reason: acknowledgment.reason })),
  );
}

/**
 * The findings several constructs share, each with the reason it is acceptable in this app. A finding
 * of one construct only is acknowledged beside it, with its own reason.
 */
export const SHARED_ACKNOWLEDGMENTS = {
  /** On a role: CDK's grant idiom writes least-privilege statements into the role's DefaultPolicy. */
  grantInlinePolicy: {
    ids: [...nag('IAMNoInlinePolicy', 'nist', 'hipaa', 'pci')],
    reason:
      "The role's DefaultPolicy is the inline policy CDK's grant methods write: each statement names this stage's resources, and the policy lives and dies with the role, so no other principal can be attached to it as a managed policy could.",
  },
  /** On a handler function: it calls only public endpoints, nothing in the VPC. */
  lambdaOutsideVpc: {
    ids: [...nag('LambdaInsideVPC', 'nist', 'hipaa', 'pci'), controlTower('lambda_inside_vpc_check')],
    reason:
      'The handler calls only the OpenAI API and AWS service APIs, over TLS and with IAM, and nothing inside the VPC (no cache, no private endpoint); putting it in the VPC would add ENI permissions to its role and NAT data charges and reach nothing more.',
  },
  /** On a handler function: no reserved concurrency. */
  lambdaUnreservedConcurrency: {
    ids: nag('LambdaConcurrency', 'nist', 'hipaa'),
    reason:
      "Reserved concurrency fails the deployment in accounts whose concurrency quota is at Lambda's minimum unreserved 10 (new accounts), and the handlers' schedules already bound their concurrency; throttles are alarmed (LambdaThrottles).",
  },
  /** On a handler function whose failed invocation the next scheduled run repeats. */
  lambdaRetriedBySchedule: {
    ids: nag('LambdaDLQ', 'nist', 'hipaa', 'serverless'),
    reason:
      'Scheduled handler: the event carries no data (a failed run loses nothing the next run does not redo), and each failure is alarmed by its Errors alarm; a dead-letter queue would hold only empty schedule events.',
  },
  /** On a schedule rule: nothing is lost if one delivery fails. */
  scheduleWithoutDlq: {
    ids: nag('EventBusDLQ', 'serverless'),
    reason:
      'A schedule rule: its events carry no data and the next tick repeats the run, so an undelivered tick loses nothing; a missed canary tick is alarmed by CanaryFailure (missing data breaches).',
  },
  /** On a log group of staging, whose retention is shorter than a year by design. */
  shortLogRetention: {
    ids: [controlTower('cloudwatch_log_group_retention_period_check')],
    reason:
      "Staging's log retention (logRetentionDays in lib/config/staging.ts) is days, not a year: staging serves no production callers and holds no production data, and production keeps its logs 365 days.",
  },
  /** On a bucket: cross-region replication. */
  noReplication: {
    ids: nag('S3BucketReplicationEnabled', 'nist', 'hipaa', 'pci'),
    reason:
      'The app is single-region by design (the gateway and its cache are regional); a replica bucket in a second region would double the storage of data that expires in days and that no other region reads.',
  },
  /** On a bucket: Object Lock. */
  noObjectLock: {
    ids: [controlTower('s3_bucket_object_lock_enabled_check')],
    reason:
      "The bucket's lifecycle rules are its retention policy (objects expire after the configured days); Object Lock would stop those deletions, and the bucket policy already refuses non-TLS access and public access is blocked.",
  },
  /** On a DynamoDB table with point-in-time recovery. */
  pitrInsteadOfBackupPlan: {
    ids: nag('DynamoDBInBackupPlan', 'nist', 'hipaa'),
    reason:
      'Point-in-time recovery is on: any second of the last 35 days can be restored, which an AWS Backup plan of daily snapshots would only coarsen, at extra cost.',
  },
  /** On a queue that is itself a dead-letter queue. */
  deadLetterQueueItself: {
    ids: ['AwsSolutions-SQS3', ...nag('SQSRedrivePolicy', 'serverless'), controlTower('sqs_dlq_check')],
    reason:
      'This queue is a dead-letter queue of a Lambda function or SNS subscriptions, which the checks do not recognise as such: a dead-letter queue of its own would only move the same messages once more, and its RedriveAllowPolicy is denyAll (tighter than the allowAll or byQueue Control Tower looks for) because no SQS queue redrives into it. Its depth is alarmed.',
  },
} as const satisfies Record<string, SharedAcknowledgment>;

/** Acknowledges Control Tower's one-year retention on a log group that keeps its logs less long. */
export function acknowledgeLogRetention(logGroup: IConstruct, retention: logs.RetentionDays): void {
  if (retention === logs.RetentionDays.INFINITE || retention >= logs.RetentionDays.ONE_YEAR) return;
  acknowledge(logGroup, SHARED_ACKNOWLEDGMENTS.shortLogRetention);
}
