import * as logs from 'aws-cdk-lib/aws-logs';
import {
  DEFAULT_NETWORK_SETTINGS,
  Network,
  NetworkSettings,
  checkNetworkSettings,
} from '../../../lib/constructs/network/network';
import { SettingsProblems } from '../../../lib/constructs/settings';
import { constructStack, importedKey, Synthesized, synthConstruct } from '../synth';

/** A Network alone in its stack, synthesized with every compliance pack. */
const synthNetwork = (settings: NetworkSettings): Synthesized => {
  const stack = constructStack();
  new Network(stack, 'Network', {
    settings,
    flowLogRetention: logs.RetentionDays.ONE_WEEK,
    flowLogKey: importedKey(stack),
  });
  return synthConstruct(stack);
};

describe('Network', () => {
  describe.each([
    ['the default settings', DEFAULT_NETWORK_SETTINGS],
    ['a small stage', { maxAzs: 2, natGateways: 1, interfaceEndpoints: false }],
  ])('with %s', (_name, settings) => {
    let s: Synthesized;
    beforeAll(() => (s = synthNetwork(settings)));

    it('has public and private subnets in the configured AZs, and NAT gateways as configured', () => {
      s.template.resourceCountIs('AWS::EC2::Subnet', settings.maxAzs * 2);
      s.template.resourceCountIs('AWS::EC2::NatGateway', settings.natGateways);
    });

    it('logs every flow to CloudWatch Logs', () => {
      s.template.hasResourceProperties('AWS::EC2::FlowLog', {
        ResourceType: 'VPC',
        TrafficType: 'ALL',
        LogDestinationType: 'cloud-watch-logs',
      });
    });

    it('has the free S3 and DynamoDB gateway endpoints', () => {
      s.template.resourcePropertiesCountIs('AWS::EC2::VPCEndpoint', { VpcEndpointType: 'Gateway' }, 2);
    });

    it(`has interface endpoints only if configured (${settings.interfaceEndpoints})`, () => {
      s.template.resourcePropertiesCountIs(
        'AWS::EC2::VPCEndpoint',
        { VpcEndpointType: 'Interface' },
        settings.interfaceEndpoints ? 4 : 0,
      );
    });

    it('assigns no public IP on launch in any subnet', () => {
      for (const subnet of Object.values(s.template.findResources('AWS::EC2::Subnet')))
        expect(subnet.Properties.MapPublicIpOnLaunch).toBe(false);
    });
  });

  describe('settings check', () => {
    const problemsOf = (settings: NetworkSettings, at = ''): readonly string[] => {
      const problems = new SettingsProblems(at);
      checkNetworkSettings(settings, problems);
      return problems.list;
    };

    it('passes the default settings', () => {
      expect(problemsOf(DEFAULT_NETWORK_SETTINGS)).toEqual([]);
    });

    it('reports every problem at once, each field by its path', () => {
      expect(problemsOf({ maxAzs: 4, natGateways: 5, interfaceEndpoints: false }, 'network.')).toEqual([
        'network.maxAzs must be 1, 2 or 3, got 4',
        'network.natGateways must be from 1 to network.maxAzs (4), got 5',
      ]);
    });

    it('is what the construct runs on its props, before it makes anything', () => {
      const stack = constructStack();
      expect(
        () =>
          new Network(stack, 'N', {
            settings: { maxAzs: 0, natGateways: 0, interfaceEndpoints: false },
            flowLogRetention: logs.RetentionDays.ONE_WEEK,
            flowLogKey: importedKey(stack),
          }),
      ).toThrow(
        'Network: 2 problems:\n  - maxAzs must be 1, 2 or 3, got 0\n  - natGateways must be from 1 to maxAzs (0), got 0',
      );
      expect(stack.node.tryFindChild('N')?.node.children).toHaveLength(0);
    });
  });
});
