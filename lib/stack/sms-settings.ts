/**
 * SMS for phone codes (issue 17) in AWS End User Messaging SMS: what the stack does with
 * `-c smsOriginationIdentity=… -c smsMonthlySpendLimit=…`.
 *   - The origination identity (a registered toll-free or 10DLC number, a pool, or a sender ID,
 *     by its id or ARN) is the only one the texting function may send from: its ARN is the
 *     resource of 'sms:send' (lib/stack/grants.ts).
 *   - The monthly spend limit is an ACCOUNT setting of End User Messaging SMS
 *     (SetTextMessageSpendLimitOverride, USD, at most the MaxLimit AWS grants the account): set
 *     at deploy by a custom resource, and put back to the account default (DeleteTextMessage
 *     SpendLimitOverride) when the stack is deleted. It caps every SMS the account sends, not only
 *     this stack's.
 */
import { Arn, ArnFormat, Stack, Validations } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { AwsCustomResource, PhysicalResourceId } from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';

export interface SmsProps {
  readonly originationIdentity: string;
  readonly monthlySpendLimit: number;
}

/** The IAM resource of an origination identity given as an ARN, a phone number id, a pool id or a sender id. */
export function originationArn(stack: Stack, identity: string): string {
  if (identity.startsWith('arn:')) return identity;
  const resource = identity.startsWith('pool-') ? 'pool' : identity.startsWith('phone-') ? 'phone-number' : 'sender-id';
  return Arn.format({ service: 'sms-voice', resource, resourceName: identity, arnFormat: ArnFormat.SLASH_RESOURCE_NAME }, stack);
}

export class SmsSpendLimit extends Construct {
  constructor(scope: Construct, id: string, props: { monthlySpendLimit: number }) {
    super(scope, id);
    const call = { service: 'PinpointSMSVoiceV2', physicalResourceId: PhysicalResourceId.of('sms-text-spend-limit') };
    const override = new AwsCustomResource(this, 'Override', {
      onCreate: { ...call, action: 'SetTextMessageSpendLimitOverride', parameters: { MonthlyLimit: props.monthlySpendLimit } },
      onUpdate: { ...call, action: 'SetTextMessageSpendLimitOverride', parameters: { MonthlyLimit: props.monthlySpendLimit } },
      onDelete: { ...call, action: 'DeleteTextMessageSpendLimitOverride', parameters: {} },
      // Account-level settings: these actions have no resource to scope to (the service authorizes them on '*').
      policy: { statements: [new PolicyStatement({ actions: ['sms-voice:SetTextMessageSpendLimitOverride', 'sms-voice:DeleteTextMessageSpendLimitOverride'], resources: ['*'] })] },
      installLatestAwsSdk: false,
    });
    // cdk-nag findings on this construct, accepted with their reasons (as nag-acknowledgements.ts does for the stack).
    const policy = override.node.findChild('CustomResourcePolicy');
    const inline =
      "AwsCustomResource writes its role's policy inline; it holds only the two spend-limit actions and belongs to this construct's one deploy-time function.";
    for (const id of ['HIPAA.Security-IAMNoInlinePolicy', 'NIST.800.53.R5-IAMNoInlinePolicy']) Validations.of(policy).acknowledge({ id, reason: inline });
    Validations.of(policy).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'SetTextMessageSpendLimitOverride and DeleteTextMessageSpendLimitOverride act on an account setting and support no resource-level permissions, so * is their only valid resource.',
    });
    // AwsCustomResource's one function (a stack-level singleton): it runs only at deploy and delete,
    // handles a dollar amount, never a patient's data, and is invoked by CloudFormation.
    const fn = Stack.of(this).node.tryFindChild('AWS679f53fac002430cb0da5b7982bd2287');
    if (fn) {
      const deployOnly = 'The AwsCustomResource function that sets the SMS spend limit runs only when the stack is deployed or deleted and handles a dollar amount, no patient data';
      const acks: [string, string][] = [
        ['AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]', `${deployOnly}; the AWS-managed basic execution policy only lets it write its own logs.`],
        ['HIPAA.Security-LambdaConcurrency', `${deployOnly}: one invocation per deploy, nothing to reserve.`],
        ['NIST.800.53.R5-LambdaConcurrency', `${deployOnly}: one invocation per deploy, nothing to reserve.`],
        ['HIPAA.Security-LambdaDLQ', `${deployOnly}; CloudFormation invokes it and fails the deploy on an error, so a dead-letter queue would stay empty.`],
        ['NIST.800.53.R5-LambdaDLQ', `${deployOnly}; CloudFormation invokes it and fails the deploy on an error, so a dead-letter queue would stay empty.`],
        ['HIPAA.Security-LambdaInsideVPC', `${deployOnly}; it calls one public AWS API and reaches nothing in a network.`],
        ['NIST.800.53.R5-LambdaInsideVPC', `${deployOnly}; it calls one public AWS API and reaches nothing in a network.`],
        ['HIPAA.Security-CloudWatchLogGroupEncrypted', `${deployOnly}; its log holds the SDK call and a dollar amount, nothing needing a customer-managed key.`],
        ['NIST.800.53.R5-CloudWatchLogGroupEncrypted', `${deployOnly}; its log holds the SDK call and a dollar amount, nothing needing a customer-managed key.`],
      ];
      for (const [id, reason] of acks) Validations.of(fn).acknowledge({ id, reason });
    }
  }
}
