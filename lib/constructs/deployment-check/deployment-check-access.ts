import { ArnFormat, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { SHARED_ACKNOWLEDGMENTS, acknowledge } from '../../acknowledgments';

export interface DeploymentCheckAccessProps {
  /** Name of the role made here, which the pipeline's check step assumes. */
  readonly roleName: string;
  /** Account of the pipeline's check step role. */
  readonly checkStepAccount: string;
  /** Name of the pipeline's check step role, the only principal that may assume the role made here. */
  readonly checkStepRoleName: string;
  /** The canary the check invokes once. */
  readonly canary: lambda.IFunction;
  /** Prefix of every alarm name of the stage; the check may read those alarms only. */
  readonly alarmNamePrefix: string;
}

/**
 * What a pipeline's post-deployment check may do in a stage's account: invoke the canary and read the
 * stage's alarms, nothing else, and only as the pipeline's check step role.
 */
export class DeploymentCheckAccess extends Construct {
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: DeploymentCheckAccessProps) {
    super(scope, id);
    const checkStepRoleArn = Stack.of(this).formatArn({
      service: 'iam',
      region: '',
      account: props.checkStepAccount,
      resource: 'role',
      resourceName: props.checkStepRoleName,
    });
    this.role = new iam.Role(this, 'Role', {
      roleName: props.roleName,
      description: 'Assumed by the pipeline after deploying this stage: invokes the canary, reads the alarms',
      assumedBy: new iam.AccountPrincipal(props.checkStepAccount).withConditions({
        ArnEquals: { 'aws:PrincipalArn': checkStepRoleArn },
      }),
    });
    // Not `grantInvoke`, which adds the function's versions and aliases (`<arn>:*`); the check invokes $LATEST.
    this.role.addToPolicy(
      new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [props.canary.functionArn] }),
    );
    const alarms = Stack.of(this).formatArn({
      service: 'cloudwatch',
      resource: 'alarm',
      resourceName: `${props.alarmNamePrefix}*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    this.role.addToPolicy(
      new iam.PolicyStatement({ actions: ['cloudwatch:DescribeAlarms'], resources: [alarms] }),
    );
    Validations.of(this.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:${Stack.of(this).partition}:cloudwatch:${Stack.of(this).region}:${Stack.of(this).account}:alarm:${props.alarmNamePrefix}*]`,
      reason:
        "The check reads every alarm of this stage, whose names share the stage's prefix; a new alarm is covered without a policy change, and no other stage's alarm is.",
    });
    acknowledge(this.role, SHARED_ACKNOWLEDGMENTS.grantInlinePolicy);
  }
}
