import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { SHARED_ACKNOWLEDGMENTS, acknowledge, acknowledgeLogRetention, nag } from '../../acknowledgments';
import { SettingsProblems, isIntegerIn } from '../settings';

/** The VPC of one stage: `StageConfig.network`. */
export interface NetworkSettings {
  /** Availability zones the VPC spans, 1 to 3. @default 3 */
  readonly maxAzs: number;
  /** NAT gateways, 1 to `maxAzs`: 1 is cheaper, one per AZ survives the loss of an AZ. @default 3 */
  readonly natGateways: number;
  /**
   * Add interface endpoints (ECR, ECR Docker, CloudWatch Logs, Secrets Manager) in every AZ so image
   * pulls, logs and secret reads skip the NAT gateway. Each costs about 7.30 USD a month per AZ; the S3
   * and DynamoDB gateway endpoints are free and always present.
   * @default true
   */
  readonly interfaceEndpoints: boolean;
}

/** What `lib/config/base.ts` starts every stage from: three AZs, each with its own NAT gateway. */
export const DEFAULT_NETWORK_SETTINGS: NetworkSettings = {
  maxAzs: 3,
  natGateways: 3,
  interfaceEndpoints: true,
};

/** Records every problem of `settings`. */
export function checkNetworkSettings(settings: NetworkSettings, problems: SettingsProblems): void {
  const { maxAzs, natGateways } = settings;
  const f = (name: keyof NetworkSettings) => problems.field(name);
  problems.expect(isIntegerIn(maxAzs, 1, 3), () => `${f('maxAzs')} must be 1, 2 or 3, got ${maxAzs}`);
  problems.expect(
    isIntegerIn(natGateways, 1, maxAzs),
    () => `${f('natGateways')} must be from 1 to ${f('maxAzs')} (${maxAzs}), got ${natGateways}`,
  );
}

export interface NetworkProps {
  readonly settings: NetworkSettings;
  /** Retention of the flow log group. */
  readonly flowLogRetention: logs.RetentionDays;
  /** Key that encrypts the flow log group; its policy must let CloudWatch Logs use it. */
  readonly flowLogKey: kms.IKey;
  /**
   * What happens to the flow log group when the stack is deleted.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The stage's VPC: public subnets for the ALB and NAT gateways, private subnets for the tasks, the
 * cache and the handlers, a flow log of every rejected and accepted flow, and the S3 and DynamoDB
 * gateway endpoints (free: ECR image layers come from S3). Interface endpoints are optional because
 * each costs about 7.30 USD a month per AZ.
 */
export class Network extends Construct {
  readonly vpc: ec2.Vpc;

  constructor(scope: Construct, id: string, props: NetworkProps) {
    super(scope, id);
    const problems = new SettingsProblems();
    checkNetworkSettings(props.settings, problems);
    problems.throwIfAny('Network');
    const { maxAzs, natGateways, interfaceEndpoints } = props.settings;

    this.vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr('10.40.0.0/16'),
      maxAzs,
      natGateways,
      subnetConfiguration: [
        // Nothing launched here needs a public IP: the ALB and the NAT gateways bring their own.
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24, mapPublicIpOnLaunch: false },
        { name: 'private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 20 },
      ],
      gatewayEndpoints: {
        S3: { service: ec2.GatewayVpcEndpointAwsService.S3 },
        DynamoDB: { service: ec2.GatewayVpcEndpointAwsService.DYNAMODB },
      },
    });

    const flowLogGroup = new logs.LogGroup(this, 'FlowLogs', {
      retention: props.flowLogRetention,
      encryptionKey: props.flowLogKey,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    acknowledgeLogRetention(flowLogGroup, props.flowLogRetention);
    const flowLog = this.vpc.addFlowLog('FlowLog', {
      destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogGroup),
      trafficType: ec2.FlowLogTrafficType.ALL,
    });
    acknowledge(flowLog, SHARED_ACKNOWLEDGMENTS.grantInlinePolicy);
    // The provider of the Vpc's restrictDefaultSecurityGroup custom resource, one per stack.
    const restrictDefaultSgProvider = Stack.of(this).node.tryFindChild(
      'Custom::VpcRestrictDefaultSGCustomResourceProvider',
    );
    if (restrictDefaultSgProvider) {
      acknowledge(restrictDefaultSgProvider, {
        ids: [...SHARED_ACKNOWLEDGMENTS.lambdaOutsideVpc.ids],
        reason:
          "aws-cdk-lib's provider that strips the default security group's rules at deploy time: it calls only the EC2 API, runs only during deployments, and cannot run inside the VPC whose security group it is fixing before that VPC's egress exists.",
      });
    }
    for (const subnet of this.vpc.publicSubnets) {
      acknowledge(subnet.node.findChild('DefaultRoute'), {
        ids: nag('VPCNoUnrestrictedRouteToIGW', 'nist', 'hipaa', 'pci'),
        reason:
          "The public subnets' route to the internet gateway is what an internet-facing ALB and the NAT gateways need; no task, cache node or handler runs in these subnets, and they assign no public IPs.",
      });
    }

    if (interfaceEndpoints) {
      const services = {
        Ecr: ec2.InterfaceVpcEndpointAwsService.ECR,
        EcrDocker: ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER,
        Logs: ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
        SecretsManager: ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
      };
      for (const [name, service] of Object.entries(services)) {
        const endpoint = this.vpc.addInterfaceEndpoint(name, {
          service,
          privateDnsEnabled: true,
          subnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
        });
        acknowledge(endpoint, {
          ids: [
            'AwsSolutions-EC23',
            ...nag('EC2RestrictedCommonPorts', 'nist', 'hipaa', 'pci'),
            ...nag('EC2RestrictedSSH', 'nist', 'hipaa', 'pci'),
          ],
          reason:
            "The endpoint's only ingress is HTTPS from this VPC's own CIDR, a token cdk-nag cannot resolve; nothing outside the VPC can reach it.",
        });
      }
    }
  }
}
