import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { GatewayConfig } from '../../../runtime/gateway-config';
import { HandlerEnv, HandlerName } from '../../../runtime/handler-env';
import { HouseFunction } from './house-function';

/** What every handler construct is given: where its code is, the stage it serves, how its logs are kept. */
export interface HandlerProps {
  /** Stage name (`STAGE`, the metric dimension). */
  readonly stage: string;
  /** Folder with one `<handler>/index.ts` per handler (the repo's `lambda/`). */
  readonly lambdaRoot: string;
  /**
   * The validated gateway document: every handler names its OpenAI organization and project; the
   * batch handler applies its models and limits too.
   */
  readonly gatewayConfig: GatewayConfig;
  /**
   * Upstream base URL including `/v1`.
   * @default 'https://api.openai.com/v1'
   */
  readonly openaiBaseUrl?: string;
  /** Key of the stage's secrets and data; encrypts the handler's log group (and the batch handler's data). */
  readonly encryptionKey: kms.IKey;
  /** Retention of the handler's log group. */
  readonly logRetention: logs.RetentionDays;
  /**
   * What happens to the handler's log group (and the batch handler's data) when the stack is deleted.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/** One handler's function: its folder under `lambda/`, what it does, its size and its own environment. */
export interface HandlerFunctionSpec {
  readonly handlerName: HandlerName;
  /** What the function does, after the stage name in its description. */
  readonly description: string;
  /** `HouseFunctionProps.purpose`. */
  readonly purpose: string;
  readonly timeout: Duration;
  readonly memoryMiB: number;
  /** Environment beyond the stage and OpenAI variables every handler gets. */
  readonly environment: Readonly<Record<string, string>>;
  /** @default none */
  readonly wildcardResourceActions?: readonly string[];
  /** @default none */
  readonly deadLetterQueue?: sqs.IQueue;
}

/**
 * The handler construct's `HouseFunction`, with the stage and OpenAI environment every handler gets.
 * Its id is `Default`, which CDK leaves out of logical IDs: the function, role and log group are named
 * by the handler construct (`HandlersCanaryLogs...`), as they were before each handler had its own.
 */
export function newHandlerFunction(
  scope: Construct,
  props: HandlerProps,
  spec: HandlerFunctionSpec,
): HouseFunction {
  const { organization, project } = props.gatewayConfig.upstream;
  return new HouseFunction(scope, 'Default', {
    lambdaRoot: props.lambdaRoot,
    handlerName: spec.handlerName,
    description: `${props.stage}: ${spec.description}`,
    purpose: spec.purpose,
    timeout: spec.timeout,
    memoryMiB: spec.memoryMiB,
    environment: {
      [HandlerEnv.stage]: props.stage,
      [HandlerEnv.openaiBaseUrl]: props.openaiBaseUrl ?? 'https://api.openai.com/v1',
      ...(organization ? { [HandlerEnv.openaiOrganization]: organization } : {}),
      ...(project ? { [HandlerEnv.openaiProject]: project } : {}),
      ...spec.environment,
    },
    logRetention: props.logRetention,
    logKey: props.encryptionKey,
    removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    wildcardResourceActions: spec.wildcardResourceActions,
    deadLetterQueue: spec.deadLetterQueue,
  });
}

/**
 * One handler of `lambda/<name>/` with what triggers it and what it may do. It shows its
 * `HouseFunction`'s function, role, log group and purpose under its own id, the handler's name
 * (`Canary`), which names its alarms.
 */
export abstract class Handler extends Construct {
  /** The handler's function, made with `newHandlerFunction`. */
  abstract readonly handler: HouseFunction;

  get function(): nodejs.NodejsFunction {
    return this.handler.function;
  }

  get role(): iam.Role {
    return this.handler.role;
  }

  get logGroup(): logs.LogGroup {
    return this.handler.logGroup;
  }

  get purpose(): string {
    return this.handler.purpose;
  }
}
