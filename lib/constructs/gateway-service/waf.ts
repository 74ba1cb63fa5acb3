import { ArnFormat, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { acknowledgeLogRetention } from '../../acknowledgments';
import { SettingsProblems, isIntegerIn } from '../settings';

/** WAF logs only to log groups whose name starts with this. */
export const WAF_LOG_GROUP_PREFIX = 'aws-waf-logs-';
/** Headers WAF must not write to its logs: the caller's client key travels in `authorization`. */
export const WAF_REDACTED_HEADERS = ['authorization'] as const;

/** WAF's smallest rate-based rule limit (requests per 5 minutes). */
export const WAF_MIN_REQUESTS_PER_5_MIN = 10;

/** Records a problem when `value`, named `field` by the caller, is no rate limit WAF accepts. */
export function checkWafRateLimit(value: number, field: string, problems: SettingsProblems): void {
  problems.expect(
    isIntegerIn(value, WAF_MIN_REQUESTS_PER_5_MIN),
    () =>
      `${field} must be an integer of at least ${WAF_MIN_REQUESTS_PER_5_MIN} (the WAF minimum), got ${value}`,
  );
}

export interface GatewayWebAclProps {
  /** ARN of the Application Load Balancer the web ACL protects. */
  readonly loadBalancerArn: string;
  /** Most requests one client IP may make in any 5-minute window before WAF blocks it. */
  readonly requestsPer5MinPerIp: number;
  /** Name of the log group WAF logs every request to; must start with `aws-waf-logs-`. */
  readonly logGroupName: string;
  /** Retention of the WAF log group. */
  readonly logRetention: logs.RetentionDays;
  /** Key that encrypts the WAF log group; its policy must let CloudWatch Logs use it. */
  readonly logKey: kms.IKey;
  /**
   * What happens to the log group when the stack is deleted.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * Rules of the AWS common rule set that would block ordinary LLM traffic, switched to count:
 * `SizeRestrictions_BODY` blocks every body over 8 KB, i.e. most long prompts; the body matches of
 * `CrossSiteScripting_BODY` and `GenericLFI_BODY` fire on prompts that quote HTML or file paths, which
 * the gateway never renders or opens. Their counts stay visible in the WAF metrics.
 */
export const COMMON_RULES_COUNTED_FOR_PROMPTS = [
  'SizeRestrictions_BODY',
  'CrossSiteScripting_BODY',
  'GenericLFI_BODY',
] as const;

/**
 * The regional WAF web ACL in front of the gateway's ALB. It logs every request it evaluates to its
 * own KMS-encrypted log group, with the `authorization` header redacted.
 */
export class GatewayWebAcl extends Construct {
  readonly webAcl: wafv2.CfnWebACL;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: GatewayWebAclProps) {
    super(scope, id);
    const problems = new SettingsProblems();
    checkWafRateLimit(props.requestsPer5MinPerIp, 'requestsPer5MinPerIp', problems);
    problems.expect(
      props.logGroupName.startsWith(WAF_LOG_GROUP_PREFIX),
      () => `logGroupName must start with "${WAF_LOG_GROUP_PREFIX}", got "${props.logGroupName}"`,
    );
    problems.throwIfAny('GatewayWebAcl');
    const visibility = (metricName: string): wafv2.CfnWebACL.VisibilityConfigProperty => ({
      cloudWatchMetricsEnabled: true,
      sampledRequestsEnabled: true,
      metricName,
    });
    this.webAcl = new wafv2.CfnWebACL(this, 'WebAcl', {
      scope: 'REGIONAL',
      defaultAction: { allow: {} },
      visibilityConfig: visibility('GatewayWebAcl'),
      rules: [
        {
          name: 'RateLimitPerIp',
          priority: 0,
          action: { block: {} },
          statement: { rateBasedStatement: { limit: props.requestsPer5MinPerIp, aggregateKeyType: 'IP' } },
          visibilityConfig: visibility('RateLimitPerIp'),
        },
        {
          name: 'AWSManagedRulesCommonRuleSet',
          priority: 1,
          overrideAction: { none: {} },
          statement: {
            managedRuleGroupStatement: {
              vendorName: 'AWS',
              name: 'AWSManagedRulesCommonRuleSet',
              ruleActionOverrides: COMMON_RULES_COUNTED_FOR_PROMPTS.map((name) => ({
                name,
                actionToUse: { count: {} },
              })),
            },
          },
          visibilityConfig: visibility('AWSManagedRulesCommonRuleSet'),
        },
        {
          name: 'AWSManagedRulesKnownBadInputsRuleSet',
          priority: 2,
          overrideAction: { none: {} },
          statement: {
            managedRuleGroupStatement: { vendorName: 'AWS', name: 'AWSManagedRulesKnownBadInputsRuleSet' },
          },
          visibilityConfig: visibility('AWSManagedRulesKnownBadInputsRuleSet'),
        },
      ],
    });
    new wafv2.CfnWebACLAssociation(this, 'Association', {
      resourceArn: props.loadBalancerArn,
      webAclArn: this.webAcl.attrArn,
    });

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      logGroupName: props.logGroupName,
      retention: props.logRetention,
      encryptionKey: props.logKey,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    acknowledgeLogRetention(this.logGroup, props.logRetention);
    const logging = new wafv2.CfnLoggingConfiguration(this, 'Logging', {
      resourceArn: this.webAcl.attrArn,
      // WAF wants the log group's ARN without the `:*` that LogGroup.logGroupArn ends with.
      logDestinationConfigs: [
        Stack.of(this).formatArn({
          service: 'logs',
          resource: 'log-group',
          resourceName: props.logGroupName,
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }),
      ],
      redactedFields: WAF_REDACTED_HEADERS.map((name) => ({ singleHeader: { Name: name } })),
    });
    logging.node.addDependency(this.logGroup);
  }
}
