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
import { Arn, ArnFormat, Stack } from 'aws-cdk-lib';
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
    new AwsCustomResource(this, 'Override', {
      onCreate: { ...call, action: 'SetTextMessageSpendLimitOverride', parameters: { MonthlyLimit: props.monthlySpendLimit } },
      onUpdate: { ...call, action: 'SetTextMessageSpendLimitOverride', parameters: { MonthlyLimit: props.monthlySpendLimit } },
      onDelete: { ...call, action: 'DeleteTextMessageSpendLimitOverride', parameters: {} },
      // Account-level settings: these actions have no resource to scope to (the service authorizes them on '*').
      policy: { statements: [new PolicyStatement({ actions: ['sms-voice:SetTextMessageSpendLimitOverride', 'sms-voice:DeleteTextMessageSpendLimitOverride'], resources: ['*'] })] },
      installLatestAwsSdk: false,
    });
  }
}
