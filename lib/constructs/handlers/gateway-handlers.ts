import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { SettingsProblems } from '../settings';
import { BatchHandler, BatchSettings, DEFAULT_BATCH_SETTINGS, checkBatchSettings } from './batch';
import { CanaryHandler, CanarySettings, DEFAULT_CANARY_SETTINGS } from './canary';
import { Handler, HandlerProps } from './handler';
import {
  DEFAULT_KEY_ROTATION_SETTINGS,
  KeyRotationHandler,
  KeyRotationSettings,
  checkKeyRotationSettings,
} from './key-rotation';
import { SpendReconciliationHandler } from './spend-reconciliation';

/** The Lambda handlers: `StageConfig.handlers`, each handler's settings side by side. */
export type HandlersSettings = CanarySettings & KeyRotationSettings & BatchSettings;

/** What `lib/config/base.ts` starts every stage from. */
export const DEFAULT_HANDLERS_SETTINGS: HandlersSettings = {
  ...DEFAULT_CANARY_SETTINGS,
  ...DEFAULT_KEY_ROTATION_SETTINGS,
  ...DEFAULT_BATCH_SETTINGS,
};

/** Records every problem of `settings`: each handler's own check (the canary has none). */
export function checkHandlersSettings(settings: HandlersSettings, problems: SettingsProblems): void {
  checkKeyRotationSettings(settings, problems);
  checkBatchSettings(settings, problems);
}

export interface GatewayHandlersProps extends HandlerProps {
  readonly settings: HandlersSettings;
  /** The OpenAI API key secret: the canary and the batch handler call with it, key rotation rotates it. */
  readonly apiKeySecret: secretsmanager.ISecret;
  /** The OpenAI admin key secret: spend reconciliation and key rotation read it. */
  readonly adminKeySecret: secretsmanager.ISecret;
  /** See `SpendReconciliationHandlerProps.spendLedgerTableName`. */
  readonly spendLedgerTableName: string;
  /** Bucket that receives the batch bucket's server access logs. */
  readonly accessLogBucket: s3.IBucket;
}

/**
 * The stage's four Lambda handlers, each its own construct (one per `lambda/<name>/`) with its
 * trigger, grants and data. This scope (`Handlers`) is in every logical ID of theirs, and `all` is
 * what alarms and dashboards watch.
 */
export class GatewayHandlers extends Construct {
  readonly canary: CanaryHandler;
  readonly spendReconciliation: SpendReconciliationHandler;
  readonly keyRotation: KeyRotationHandler;
  readonly batch: BatchHandler;

  constructor(scope: Construct, id: string, props: GatewayHandlersProps) {
    super(scope, id);
    const problems = new SettingsProblems();
    checkHandlersSettings(props.settings, problems);
    problems.throwIfAny('GatewayHandlers');

    this.canary = new CanaryHandler(this, 'Canary', props);
    this.spendReconciliation = new SpendReconciliationHandler(this, 'SpendReconciliation', props);
    this.keyRotation = new KeyRotationHandler(this, 'KeyRotation', props);
    this.batch = new BatchHandler(this, 'Batch', props);
  }

  /** The batch bucket (`BatchHandler.bucket`), for the stack's outputs. */
  get batchBucket(): s3.Bucket {
    return this.batch.bucket;
  }

  /** `BatchHandler.deadLetterQueue`, for its alarm. */
  get batchDeadLetterQueue(): sqs.Queue {
    return this.batch.deadLetterQueue;
  }

  /** Every handler, for alarms (named by each handler's id) and dashboards. */
  get all(): readonly Handler[] {
    return [this.canary, this.spendReconciliation, this.keyRotation, this.batch];
  }
}
