/**
 * Phone codes in the deployed stack (issue 17), built from context the way `cdk deploy -c
 * smsOriginationIdentity=… -c smsMonthlySpendLimit=…` builds it: the HMAC key of the codes, the
 * account's SMS spend limit set by a custom resource, the texting function allowed
 * sms-voice:SendTextMessage on that identity only and GenerateMac on that key only, registration
 * GenerateMac only; no SMS context: no key, no custom resource, no SMS grant anywhere, and the
 * two values only together. No bundling: configuration, not code.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { portalStackFromContext } from '../../lib/stack/app.ts';
import { nagPacks } from '../../lib/stack/nag-packs.ts';
import { repoRoot } from '../../lib/stack/portal-function.ts';

type Json = any;

const cdkJson = JSON.parse(readFileSync(path.join(repoRoot, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> };
const identity = `phone-${'a1'.repeat(16)}`;

function build(context: Record<string, unknown>) {
  const app = new App({ context: { ...cdkJson.context, senderEmail: 'portal@clinic.test', allowPlaceholders: 'true', 'aws:cdk:bundling-stacks': [], ...context } });
  const stack = portalStackFromContext(app);
  const template = Template.fromStack(stack);
  return { stack, template, resources: (template.toJSON() as Json).Resources as Record<string, Json> };
}

const withSms = build({ smsOriginationIdentity: identity, smsMonthlySpendLimit: '25' });
const policyOf = (b: ReturnType<typeof build>, routeId: string) => JSON.stringify(b.resources[b.stack.resolve(b.stack.functions.get(routeId)!.policy.node.defaultChild && (b.stack.functions.get(routeId)!.policy.node.defaultChild as Json).logicalId)]?.Properties.PolicyDocument);

describe('with SMS context', () => {
  it('a KMS HMAC key for the codes', () => {
    withSms.template.hasResourceProperties('AWS::KMS::Key', { KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' });
  });

  it('the monthly SMS spend limit is set by SetTextMessageSpendLimitOverride, and put back on delete', () => {
    const [custom] = Object.values(withSms.resources).filter((r) => r.Type === 'Custom::AWS');
    const call = (v: Json) => JSON.parse(typeof v === 'string' ? v : JSON.stringify(v['Fn::Join']?.[1]?.join('') ?? v));
    expect(call(custom.Properties.Create)).toMatchObject({ service: 'PinpointSMSVoiceV2', action: 'SetTextMessageSpendLimitOverride', parameters: { MonthlyLimit: 25 } });
    expect(call(custom.Properties.Update)).toMatchObject({ action: 'SetTextMessageSpendLimitOverride', parameters: { MonthlyLimit: 25 } });
    expect(call(custom.Properties.Delete)).toMatchObject({ action: 'DeleteTextMessageSpendLimitOverride' });
  });

  it('the texting function may send from that identity only and MAC with that key only; registration only MACs; no other function texts', () => {
    const text = policyOf(withSms, 'phone-code-request');
    expect(text).toContain('"sms-voice:SendTextMessage"');
    expect(text).toContain(`phone-number/${identity}`);
    expect(text).toContain('"kms:GenerateMac"');
    expect(text).not.toMatch(/sms-voice:\*|"Resource":"\*"[^}]*SendTextMessage/);
    const reg = policyOf(withSms, 'registration-create');
    expect(reg).toContain('"kms:GenerateMac"');
    expect(reg).not.toContain('SendTextMessage');
    for (const id of withSms.stack.functions.keys()) {
      if (id !== 'phone-code-request') expect(policyOf(withSms, id), id).not.toContain('SendTextMessage');
    }
  });

  it('the functions know the identity and the key', () => {
    const fn = withSms.stack.functions.get('phone-code-request')!.function;
    const env = withSms.resources[withSms.stack.getLogicalId(fn.node.defaultChild as Json)].Properties.Environment.Variables;
    expect(env.SMS_ORIGINATION_IDENTITY).toBe(identity);
    expect(env.PHONE_CODE_KEY_ID).toBeDefined();
  });

  it('cdk-nag: nothing unacknowledged on the spend-limit custom resource and the key', () => {
    // With AwsCustomResource's one function (a stack-level singleton).
    const singleton = withSms.stack.node.children.filter((c) => c.node.id.startsWith('AWS679f53fac002430cb0da5b7982bd2287'));
    const scopes = [withSms.stack.node.findChild('SmsSpendLimit'), withSms.stack.node.findChild('PhoneCodeKey'), ...singleton];
    const found = nagPacks().flatMap((pack) =>
      scopes.flatMap((scope) => pack.validateScope(scope).violations.map((v) => `${v.severity} ${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`)),
    );
    expect(found).toEqual([]);
  });
});

describe('without SMS context', () => {
  const plain = build({});
  it('no HMAC key, no custom resource, no SMS action anywhere', () => {
    expect(Object.values(plain.resources).filter((r) => r.Type === 'Custom::AWS')).toEqual([]);
    expect(JSON.stringify(plain.resources)).not.toContain('SendTextMessage');
    // No phone-code key (the lobby-password HMAC key is in every deployment: test/cdk/lobby-key.test.ts).
    expect(plain.stack.phoneCodeKey).toBeUndefined();
    expect(JSON.stringify(plain.resources)).not.toContain('PHONE_CODE_KEY_ID');
  });

  it('the two values go together', () => {
    expect(() => build({ smsOriginationIdentity: identity })).toThrow(/smsMonthlySpendLimit/);
    expect(() => build({ smsMonthlySpendLimit: '10' })).toThrow(/smsOriginationIdentity/);
    expect(() => build({ smsOriginationIdentity: 'not an identity!', smsMonthlySpendLimit: '10' })).toThrow(/smsOriginationIdentity/);
  });
});
