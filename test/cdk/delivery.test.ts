/**
 * Delivery events (issue 15 item 3) in the synthesized stack: the configuration set publishes
 * send, delivery, bounce, complaint and reject events to the default bus, a rule that matches
 * only this set's events invokes the delivery function, whose role holds only its grants, and
 * cdk-nag finds nothing unacknowledged on any of it. One synthesis, without bundling.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { App, CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseStackContext } from '../../lib/stack/context.ts';
import { permissionsFor } from '../../lib/stack/grants.ts';
import { nagPacks } from '../../lib/stack/nag-packs.ts';
import { repoRoot } from '../../lib/stack/portal-function.ts';
import { PortalAccessStack } from '../../lib/stack/portal-stack.ts';

type Json = any; // synthesized CloudFormation JSON

let stack: PortalAccessStack;
let resources: Record<string, Json>;

beforeAll(() => {
  const cdkContext = (JSON.parse(readFileSync(path.join(repoRoot, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> }).context;
  const app = new App({
    context: { ...cdkContext, senderEmail: 'portal@clinic.test', portalUrl: 'https://portal.clinic.test', allowPlaceholders: 'true', 'aws:cdk:bundling-stacks': [] },
  });
  const ctx = parseStackContext((name) => app.node.tryGetContext(name));
  stack = new PortalAccessStack(app, 'PortalAccessDelivery', { senderEmail: ctx.senderEmail, portalUrl: ctx.portalUrl!, practiceName: 'Test Practice' });
  resources = Template.fromStack(stack).toJSON().Resources as Record<string, Json>;
});

const ofType = (type: string): [string, Json][] => Object.entries(resources).filter(([, r]) => r.Type === type);
const logicalId = (c: IConstruct): string =>
  stack.resolve(stack.getLogicalId(CfnElement.isCfnElement(c) ? c : (c.node.defaultChild as CfnElement))) as string;

describe('delivery events', () => {
  it('the configuration set publishes send, delivery, bounce, complaint and reject to the default event bus', () => {
    const destinations = ofType('AWS::SES::ConfigurationSetEventDestination');
    expect(destinations).toHaveLength(1);
    const [, dest] = destinations[0]!;
    expect(dest.Properties.ConfigurationSetName).toEqual({ Ref: logicalId(stack.mail.configurationSet) });
    const d = dest.Properties.EventDestination;
    expect(d.Enabled).toBe(true);
    expect([...d.MatchingEventTypes].sort()).toEqual(['bounce', 'complaint', 'delivery', 'reject', 'send']);
    expect(JSON.stringify(stack.resolve(d.EventBridgeDestination.EventBusArn))).toContain('event-bus/default');
    expect(d.SnsDestination).toBeUndefined();
  });

  it("a rule on the default bus matches only SES events of this configuration set and invokes the delivery function, with retries", () => {
    const fn = logicalId(stack.triggers.get('delivery-events')!.function);
    const rules = ofType('AWS::Events::Rule').filter(([, r]) => r.Properties.Targets?.some((t: Json) => JSON.stringify(t.Arn).includes(fn)));
    expect(rules).toHaveLength(1);
    const [, rule] = rules[0]!;
    expect(rule.Properties.EventBusName).toBe('default');
    expect(rule.Properties.EventPattern).toEqual({
      source: ['aws.ses'],
      detail: { mail: { tags: { 'ses:configuration-set': [{ Ref: logicalId(stack.mail.configurationSet) }] } } },
    });
    expect(rule.Properties.Targets[0].RetryPolicy).toEqual({ MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 86400 });
    // Only EventBridge, and only from that rule, may invoke it.
    const permissions = ofType('AWS::Lambda::Permission').filter(([, p]) => JSON.stringify(p.Properties.FunctionName).includes(fn));
    expect(permissions).toHaveLength(1);
    expect(permissions[0]![1].Properties).toMatchObject({ Principal: 'events.amazonaws.com', SourceArn: { 'Fn::GetAtt': [rules[0]![0], 'Arn'] } });
  });

  it('the delivery function runs the delivery handler, and its role reads and writes records and appends audit, nothing else', () => {
    const f = stack.triggers.get('delivery-events')!;
    const policy = resources[logicalId(f.policy)];
    const actions = new Set<string>(
      policy.Properties.PolicyDocument.Statement.flatMap((s: Json) => (Array.isArray(s.Action) ? s.Action : [s.Action])),
    );
    const t = 'arn:aws:x:::y';
    const targets = { region: 'r', recordsTableArn: t, recordsIndexArns: [t], auditTableArn: t, dataKeyArn: t, staffPoolArn: t, patientPoolArn: t, emailIdentityArn: t, configurationSetArn: t, pinKeyArn: t, senderEmail: 'a@b.test' };
    const granted = new Set(permissionsFor(['records:read', 'records:write', 'audit:append'], targets).flatMap((p) => p.actions));
    for (const a of actions) expect(granted.has(a) || /^(logs:(CreateLogStream|PutLogEvents)|xray:Put\w+)$/.test(a), a).toBe(true);
    expect([...actions].some((a) => a.startsWith('ses:') || a.startsWith('cognito'))).toBe(false);
    const env = resources[logicalId(f.function)].Properties.Environment.Variables;
    expect(env.RECORDS_TABLE).toBeDefined();
    expect(env.AUDIT_TABLE).toBeDefined();
  });

  it('cdk-nag: nothing unacknowledged on the mail construct and the delivery function (AwsSolutions, HIPAA, NIST)', () => {
    const scopes: IConstruct[] = [stack.mail, stack.triggers.get('delivery-events')!];
    const found = nagPacks().flatMap((pack) =>
      scopes.flatMap((scope) => pack.validateScope(scope).violations.map((v) => `${v.severity} ${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`)),
    );
    expect(found).toEqual([]);
  });
});
