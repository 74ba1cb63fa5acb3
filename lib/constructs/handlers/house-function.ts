import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { METRIC_NAMESPACE } from '../../../runtime/metric-names';
import { SHARED_ACKNOWLEDGMENTS, acknowledge, acknowledgeLogRetention } from '../../acknowledgments';

/** The newest Node.js runtime the installed aws-cdk-lib offers (cdk-nag L1 checks for it). */
export const HANDLER_RUNTIME = lambda.Runtime.NODEJS_24_X;
/** Lambda's limit on the total size of a function's environment variables. */
const MAX_ENVIRONMENT_BYTES = 4 * 1024;

export interface HouseFunctionProps {
  /** Folder holding `<handlerName>/index.ts` (which exports `handler`). */
  readonly lambdaRoot: string;
  /** Handler folder name under `lambdaRoot`; also the Powertools service name. */
  readonly handlerName: string;
  readonly description: string;
  /**
   * What the handler does for the stage, as its alarms say it ("the once-a-minute canary call to
   * OpenAI"): its Errors alarm says this is not being done.
   */
  readonly purpose: string;
  /** Time one invocation may take. */
  readonly timeout: Duration;
  /** Memory in MB (CPU scales with it). */
  readonly memoryMiB: number;
  /** Environment beyond the house defaults (`POWERTOOLS_*`, `NODE_OPTIONS`). Never a secret value. */
  readonly environment: Readonly<Record<string, string>>;
  /** Retention of the function's log group. */
  readonly logRetention: logs.RetentionDays;
  /** Key that encrypts the function's log group; its policy must let CloudWatch Logs use it. */
  readonly logKey: kms.IKey;
  /**
   * Queue that receives the events of asynchronous invocations that still failed after Lambda's two
   * retries; the role may send to it.
   * @default none
   */
  readonly deadLetterQueue?: sqs.IQueue;
  /**
   * What happens to the log group when the stack is deleted.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Actions this function is granted on `"*"` beyond X-Ray's, each because it has no resource-level
   * permissions; they go into the cdk-nag acknowledgement of the role's wildcard resource.
   * @default none
   */
  readonly wildcardResourceActions?: readonly string[];
}

/**
 * A Lambda function with the house defaults every handler shares (Powertools `examples/app` style):
 * the newest Node.js runtime, ARM64, its own log group with retention in JSON format, X-Ray tracing,
 * an explicit timeout and memory, and a minified esbuild bundle with source maps built by the local
 * esbuild (no Docker). Its role starts with nothing but writing to its own log group. Its log group
 * is encrypted with the given key.
 */
export class HouseFunction extends Construct {
  readonly function: nodejs.NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;
  /** `HouseFunctionProps.purpose`. */
  readonly purpose: string;

  constructor(scope: Construct, id: string, props: HouseFunctionProps) {
    super(scope, id);
    this.purpose = props.purpose;
    const entry = join(props.lambdaRoot, props.handlerName, 'index.ts');
    if (!existsSync(entry))
      throw new Error(`HouseFunction: ${entry} does not exist (each handler is lambda/<name>/index.ts)`);
    if (!Number.isInteger(props.memoryMiB) || props.memoryMiB < 128 || props.memoryMiB > 10240) {
      throw new Error(
        `HouseFunction ${props.handlerName}: memoryMiB must be an integer from 128 to 10240, got ${props.memoryMiB}`,
      );
    }
    const environment: Record<string, string> = {
      POWERTOOLS_SERVICE_NAME: props.handlerName,
      POWERTOOLS_METRICS_NAMESPACE: METRIC_NAMESPACE,
      NODE_OPTIONS: '--enable-source-maps',
      ...props.environment,
    };
    const literalBytes = Object.entries(environment).reduce(
      (n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v),
      0,
    );
    if (literalBytes > MAX_ENVIRONMENT_BYTES) {
      throw new Error(
        `HouseFunction ${props.handlerName}: environment is ${literalBytes} bytes, above Lambda's ${MAX_ENVIRONMENT_BYTES}-byte limit`,
      );
    }

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention,
      encryptionKey: props.logKey,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    acknowledgeLogRetention(this.logGroup, props.logRetention);
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `${props.handlerName} handler`,
    });
    this.logGroup.grantWrite(this.role);

    this.function = new nodejs.NodejsFunction(this, 'Function', {
      entry,
      handler: 'handler',
      description: props.description,
      runtime: HANDLER_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      timeout: props.timeout,
      memorySize: props.memoryMiB,
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      tracing: lambda.Tracing.ACTIVE,
      deadLetterQueue: props.deadLetterQueue,
      environment,
      bundling: {
        forceDockerBundling: false,
        minify: true,
        sourceMap: true,
        target: 'node24',
        // The Node.js runtime ships the AWS SDK v3; the bundle keeps everything else.
        externalModules: ['@aws-sdk/*'],
      },
    });
    const wildcardActions = [
      'xray:PutTraceSegments',
      'xray:PutTelemetryRecords',
      ...(props.wildcardResourceActions ?? []),
    ];
    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: `Resource "*" only for actions without resource-level permissions: ${wildcardActions.join(', ')}.`,
    });
    acknowledge(this.role, SHARED_ACKNOWLEDGMENTS.grantInlinePolicy);
    acknowledge(this.function, SHARED_ACKNOWLEDGMENTS.lambdaOutsideVpc);
    acknowledge(this.function, SHARED_ACKNOWLEDGMENTS.lambdaUnreservedConcurrency);
  }
}
