import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';

export interface GatewayWebAclProps {
  /** ARN of the Application Load Balancer the web ACL protects. */
  readonly loadBalancerArn: string;
  /** Most requests one client IP may make in any 5-minute window before WAF blocks it. */
  readonly requestsPer5MinPerIp: number;
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

/** The regional WAF web ACL in front of the gateway's ALB. */
export class GatewayWebAcl extends Construct {
  readonly webAcl: wafv2.CfnWebACL;

  constructor(scope: Construct, id: string, props: GatewayWebAclProps) {
    super(scope, id);
    if (!Number.isInteger(props.requestsPer5MinPerIp) || props.requestsPer5MinPerIp < 10) {
      throw new Error(
        `GatewayWebAcl: requestsPer5MinPerIp must be an integer of at least 10, got ${props.requestsPer5MinPerIp}`,
      );
    }
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
  }
}
