import * as logs from 'aws-cdk-lib/aws-logs';
import { GatewayWebAcl, GatewayWebAclProps } from '../../../lib/constructs/gateway-service/waf';
import { constructStack, importedKey } from '../synth';

describe('GatewayWebAcl', () => {
  const webAcl = (props: Partial<GatewayWebAclProps>): GatewayWebAcl => {
    const stack = constructStack();
    return new GatewayWebAcl(stack, 'Waf', {
      loadBalancerArn:
        'arn:aws:elasticloadbalancing:us-east-1:111111111111:loadbalancer/app/gateway/0123456789abcdef',
      requestsPer5MinPerIp: 100,
      logGroupName: 'aws-waf-logs-test',
      logRetention: logs.RetentionDays.ONE_WEEK,
      logKey: importedKey(stack),
      ...props,
    });
  };

  it('refuses a rate limit below the WAF minimum, with the message the service settings check gives', () => {
    expect(() => webAcl({ requestsPer5MinPerIp: 5 })).toThrow(
      new Error(
        'GatewayWebAcl: requestsPer5MinPerIp must be an integer of at least 10 (the WAF minimum), got 5',
      ),
    );
  });

  it('reports every problem at once, a log group WAF cannot log to among them', () => {
    expect(() => webAcl({ requestsPer5MinPerIp: 2.5, logGroupName: 'waf-test' })).toThrow(
      new Error(
        [
          'GatewayWebAcl: 2 problems:',
          '  - requestsPer5MinPerIp must be an integer of at least 10 (the WAF minimum), got 2.5',
          '  - logGroupName must start with "aws-waf-logs-", got "waf-test"',
        ].join('\n'),
      ),
    );
  });
});
