import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { SHARED_ACKNOWLEDGMENTS, acknowledge, controlTower, nag } from '../../acknowledgments';

export interface AccessLogBucketProps {
  /** Days access logs are kept. */
  readonly retentionDays: number;
  /**
   * What happens to the bucket when the stack is deleted (it must be empty to be deleted).
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * Receives the ALB's access logs and the batch bucket's server access logs. SSE-S3, because ALB log
 * delivery cannot write with a customer-managed key; TLS only; no public access; logs expire. cdk-nag's S1
 * (server access logs) does not apply to a bucket that is itself a log destination.
 */
export class AccessLogBucket extends Construct {
  readonly bucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: AccessLogBucketProps) {
    super(scope, id);
    this.bucket = new s3.Bucket(this, 'Bucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
      lifecycleRules: [{ id: 'expire-logs', expiration: Duration.days(props.retentionDays) }],
    });
    acknowledge(this.bucket, {
      ids: [
        ...nag('S3DefaultEncryptionKMS', 'nist', 'hipaa', 'pci'),
        controlTower('s3_bucket_default_encryption_kms_check'),
      ],
      reason:
        'ALB access log delivery writes only to buckets encrypted with SSE-S3 (Amazon S3 managed keys); a customer-managed key would stop the ALB logs.',
    });
    acknowledge(this.bucket, {
      ids: [controlTower('s3_bucket_logging_enabled_check')],
      reason:
        'This bucket is the destination of the server access logs; logging it into itself would log every log delivery, and another log bucket would only move the question.',
    });
    acknowledge(this.bucket, {
      ids: [
        ...nag('S3BucketVersioningEnabled', 'nist', 'hipaa', 'pci'),
        controlTower('s3_bucket_versioning_enabled_check'),
      ],
      reason:
        'Log objects are written once by the log delivery services and never overwritten; versioning would only keep expired logs as noncurrent versions. The bucket policy grants writes to the log delivery principals only, over TLS.',
    });
    acknowledge(this.bucket, {
      ids: [controlTower('s3_event_notifications_enabled_check')],
      reason:
        'Nothing reacts to a new log object: the logs are read on demand (Athena, the console) when investigating.',
    });
    acknowledge(this.bucket, SHARED_ACKNOWLEDGMENTS.noReplication);
    acknowledge(this.bucket, SHARED_ACKNOWLEDGMENTS.noObjectLock);
  }
}
