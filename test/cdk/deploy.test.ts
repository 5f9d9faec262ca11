/**
 * A first deploy that works (issue 12 item 5) and rule 34's Cognito side (issue 13 items 12-13),
 * asserted on stacks built from context the way `cdk deploy` builds them (lib/stack/app.ts).
 * No bundling (an empty bundling-stacks list): these are about configuration, not code.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { App, CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { routes, type Route } from '../../lib/routes.ts';
import { portalStackFromContext } from '../../lib/stack/app.ts';
import { isExampleValue, parseStackContext, placeholderProblems, refusePlaceholders } from '../../lib/stack/context.ts';
import { grantPermissions, type GrantTargets } from '../../lib/stack/grants.ts';
import { nagPacks } from '../../lib/stack/nag-packs.ts';
import { repoRoot } from '../../lib/stack/portal-function.ts';
import type { PortalAccessStack } from '../../lib/stack/portal-stack.ts';

type Json = any; // synthesized CloudFormation JSON

const cdkJson = JSON.parse(readFileSync(path.join(repoRoot, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> };

interface Built {
  stack: PortalAccessStack;
  template: Json;
  resources: Record<string, Json>;
}

/** The stack `cdk deploy -c k=v ...` would build (placeholders allowed: .test values below). */
function build(context: Record<string, unknown>): Built {
  const app = new App({
    context: { ...cdkJson.context, allowPlaceholders: 'true', 'aws:cdk:bundling-stacks': [], ...context },
  });
  const stack = portalStackFromContext(app);
  const template = Template.fromStack(stack).toJSON() as Json;
  return { stack, template, resources: template.Resources };
}

const ofType = (b: Built, type: string): [string, Json][] => Object.entries(b.resources).filter(([, r]) => r.Type === type);
const logicalId = (b: Built, c: { node: { defaultChild?: unknown } } | CfnElement) =>
  b.stack.resolve(b.stack.getLogicalId(c instanceof CfnElement ? c : (c.node.defaultChild as CfnElement))) as string;
const functionsOf = (b: Built) => ofType(b, 'AWS::Lambda::Function');

/**
 * A CloudFormation value as the string it becomes at deploy, with the pseudo parameters of
 * `stackId`; undefined when it names one of the stack's own resources (unique by construction).
 */
function evaluate(value: Json, stackName: string, stackId: string): string | undefined {
  if (typeof value === 'string' || typeof value === 'number') return String(value);
  if (Array.isArray(value)) return undefined;
  if (value?.Ref) {
    const pseudo: Record<string, string> = {
      'AWS::StackName': stackName,
      'AWS::StackId': stackId,
      'AWS::Region': 'eu-west-1',
      'AWS::AccountId': '123456789012',
      'AWS::URLSuffix': 'amazonaws.com',
      'AWS::Partition': 'aws',
    };
    return pseudo[value.Ref];
  }
  if (value?.['Fn::Join']) {
    const [sep, parts] = value['Fn::Join'];
    const out = (parts as Json[]).map((p) => evaluate(p, stackName, stackId));
    return out.some((p) => p === undefined) ? undefined : out.join(sep);
  }
  if (value?.['Fn::Select']) {
    const [index, list] = value['Fn::Select'];
    const items = list?.['Fn::Split'] ? split(list, stackName, stackId) : undefined;
    return items?.[index];
  }
  return undefined;
}
function split(value: Json, stackName: string, stackId: string): string[] | undefined {
  const [sep, source] = value['Fn::Split'];
  return evaluate(source, stackName, stackId)?.split(sep);
}

/**
 * Every physical name a stack asks for: top-level properties named *Name (and Name), the SES
 * identity, and the backup plan's and selection's names. Left out: names scoped inside one of
 * the stack's own resources (a pool's groups) and metric names (not resources).
 */
function physicalNames(b: Built, stackId: string): Map<string, string> {
  const scoped: Record<string, readonly string[]> = {
    'AWS::Cognito::UserPoolGroup': ['GroupName'], // within the stack's own pool
    'AWS::ApiGateway::Method': ['OperationName'], // within the stack's own API
    'AWS::CloudWatch::Alarm': ['MetricName'], // a metric, not a resource
    'AWS::SNS::Topic': ['DisplayName'], // a label in notifications, not the topic's name
    'AWS::Events::Rule': ['EventBusName'], // the account's default bus, which SES publishes to: shared by design
  };
  const names = new Map<string, string>();
  const add = (id: string, key: string, value: Json) => {
    const v = evaluate(value, b.stack.stackName, stackId);
    if (v !== undefined) names.set(`${id}.${key}`, v.toLowerCase());
  };
  for (const [id, r] of Object.entries(b.resources)) {
    for (const [key, value] of Object.entries<Json>(r.Properties ?? {})) {
      if (scoped[r.Type]?.includes(key)) continue;
      if (/Name$/.test(key) || key === 'EmailIdentity') add(id, key, value);
    }
    if (r.Type === 'AWS::Backup::BackupPlan') add(id, 'BackupPlanName', r.Properties.BackupPlan.BackupPlanName);
    if (r.Type === 'AWS::Backup::BackupSelection') add(id, 'SelectionName', r.Properties.BackupSelection.SelectionName);
  }
  return names;
}

let plain: Built;
beforeAll(() => {
  plain = build({ senderEmail: 'portal@clinic.test' });
});

describe('reserved concurrency (issue 12.5)', () => {
  it('none by default: a new account with the smallest concurrency quota can take the stack', () => {
    expect(functionsOf(plain).length).toBe(routes.length + 2); // + the token trigger and the delivery-events function
    for (const [id, fn] of functionsOf(plain)) expect(fn.Properties.ReservedConcurrentExecutions, id).toBeUndefined();
  });

  it('with -c reservedConcurrency=n it needs -c accountConcurrencyLimit, and refuses a limit below functions × n + 100, naming both numbers', () => {
    expect(() => build({ senderEmail: 'portal@clinic.test', reservedConcurrency: '10' })).toThrow(/accountConcurrencyLimit/);
    const functions = routes.length + 2;
    const needed = functions * 10 + 100;
    expect(() => build({ senderEmail: 'portal@clinic.test', reservedConcurrency: '10', accountConcurrencyLimit: String(needed - 1) })).toThrow(
      new RegExp(`reservedConcurrency=10 for ${functions} functions[\\s\\S]*needs an account limit of ${needed}[\\s\\S]*accountConcurrencyLimit=${needed - 1}`),
    );
    const fits = build({ senderEmail: 'portal@clinic.test', reservedConcurrency: '10', accountConcurrencyLimit: String(needed) });
    for (const [id, fn] of functionsOf(fits)) expect(fn.Properties.ReservedConcurrentExecutions, id).toBe(10);
  });
});

describe('environments side by side (issue 12.5)', () => {
  it('two env values synthesize with no physical name in common, retained names unique per stack creation, stage named after the env', () => {
    const production = build({ senderEmail: 'portal@clinic.test', env: 'production' });
    // Staging in the same account: the SES identity and the account's API Gateway role belong to production.
    const staging = build({ senderEmail: 'portal@clinic.test', env: 'staging', mailIdentity: 'existing', apiGatewayAccountRole: 'existing' });
    expect(production.stack.stackName).toBe('PortalAccess-production');
    expect(staging.stack.stackName).toBe('PortalAccess-staging');

    const a = physicalNames(production, 'arn:aws:cloudformation:eu-west-1:123456789012:stack/PortalAccess-production/11111111-2222-3333-4444-555555555555');
    const b = physicalNames(staging, 'arn:aws:cloudformation:eu-west-1:123456789012:stack/PortalAccess-staging/66666666-7777-8888-9999-000000000000');
    expect(a.size).toBeGreaterThan(3);
    const shared = [...a].filter(([, v]) => [...b.values()].includes(v));
    expect(shared).toEqual([]);

    // The same stack created again (after a rolled-back first deploy, or destroy) gets new names
    // for what the first one retained.
    const again = physicalNames(production, 'arn:aws:cloudformation:eu-west-1:123456789012:stack/PortalAccess-production/abcdefab-cdef-abcd-efab-cdefabcdefab');
    const retained = Object.entries(production.resources).filter(([, r]) => r.DeletionPolicy === 'Retain').map(([id]) => id);
    for (const [key, value] of a) {
      if (retained.includes(key.split('.')[0]!)) expect(again.get(key), key).not.toBe(value);
    }
    const waf = ofType(production, 'AWS::Logs::LogGroup').find(([id]) => id === logicalId(production, production.stack.api.wafLogs))!;
    expect(a.get(`${waf[0]}.LogGroupName`)).toBe('aws-waf-logs-portalaccess-production-555555555555');
    expect(a.get(`${logicalId(production, production.stack.data.vault)}.BackupVaultName`)).toBe('portalaccess-production-555555555555');

    const stageOf = (x: Built) => ofType(x, 'AWS::ApiGateway::Stage')[0]![1].Properties.StageName;
    expect(stageOf(production)).toBe('production');
    expect(stageOf(staging)).toBe('staging');
    expect(stageOf(plain)).toBe('prod');
    expect(ofType(staging, 'AWS::SES::EmailIdentity')).toEqual([]);
    expect(ofType(staging, 'AWS::ApiGateway::Account')).toEqual([]);
    expect(ofType(production, 'AWS::ApiGateway::Account')).toHaveLength(1);
    // The WAF logging points at the log group's own (stack-id-suffixed) name.
    const logging = ofType(production, 'AWS::WAFv2::LoggingConfiguration')[0]![1].Properties;
    expect(JSON.stringify(logging.LogDestinationConfigs)).toContain('AWS::StackId');
  });
});

describe('the portal served at portalUrl (issue 12.5)', () => {
  const portalUrlOf = (b: Built) => {
    const values = functionsOf(b).map(([, fn]) => JSON.stringify(fn.Properties.Environment?.Variables?.PORTAL_URL));
    return values;
  };

  it("without a domain, every route's PORTAL_URL and the PortalUrl output are the API's own URL with its stage, never a host nobody runs", () => {
    const apiId = logicalId(plain, plain.stack.api.api);
    const expected = { 'Fn::Join': ['', ['https://', { Ref: apiId }, '.execute-api.', { Ref: 'AWS::Region' }, '.', { Ref: 'AWS::URLSuffix' }, '/prod']] };
    for (const route of routes) {
      const fn = plain.resources[logicalId(plain, plain.stack.functions.get(route.id)!.function)];
      expect(fn.Properties.Environment.Variables.PORTAL_URL, route.id).toEqual(expected);
    }
    expect(plain.template.Outputs.PortalUrl.Value).toEqual(expected);
  });

  it('with domainName + certificateArn (+ hostedZoneId): a regional TLS 1.2+ custom domain mapped to the stage at the root, an alias record, and PORTAL_URL https://<domain>', () => {
    const b = build({
      senderEmail: 'portal@clinic.test',
      domainName: 'portal.clinic.test',
      certificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/0f0e0d0c-0000-1111-2222-333344445555',
      hostedZoneId: 'Z0123456789ABCDEFGHIJ',
      hostedZoneName: 'clinic.test',
    });
    const [domainId, domain] = ofType(b, 'AWS::ApiGateway::DomainName')[0]!;
    expect(domain.Properties).toMatchObject({
      DomainName: 'portal.clinic.test',
      RegionalCertificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/0f0e0d0c-0000-1111-2222-333344445555',
      EndpointConfiguration: { Types: ['REGIONAL'] },
      EndpointAccessMode: 'STRICT',
    });
    expect(domain.Properties.SecurityPolicy).toMatch(/^(TLS_1_2|SecurityPolicy_TLS13_1_2)/);
    const mappings = ofType(b, 'AWS::ApiGateway::BasePathMapping');
    expect(mappings).toHaveLength(1);
    expect(mappings[0]![1].Properties).toEqual({
      DomainName: { Ref: domainId },
      RestApiId: { Ref: logicalId(b, b.stack.api.api) },
      Stage: { Ref: logicalId(b, b.stack.api.api.deploymentStage) },
    });
    const records = ofType(b, 'AWS::Route53::RecordSet').filter(([, r]) => r.Properties.Type === 'A');
    expect(records).toHaveLength(1);
    expect(records[0]![1].Properties).toMatchObject({
      HostedZoneId: 'Z0123456789ABCDEFGHIJ',
      Name: 'portal.clinic.test.',
      AliasTarget: { DNSName: { 'Fn::GetAtt': [domainId, 'RegionalDomainName'] } },
    });
    // Every function that builds links (one per route) carries the domain; the token trigger and
    // the delivery-events function build none and carry no PORTAL_URL at all.
    const withUrl = functionsOf(b).filter(([, fn]) => fn.Properties.Environment?.Variables?.PORTAL_URL !== undefined);
    expect(withUrl.length).toBeGreaterThanOrEqual(routes.length);
    for (const [id, fn] of withUrl) expect(fn.Properties.Environment.Variables.PORTAL_URL, id).toBe('https://portal.clinic.test');
    expect(b.template.Outputs.PortalUrl.Value).toBe('https://portal.clinic.test');
    expect(ofType(plain, 'AWS::ApiGateway::DomainName')).toEqual([]);
  });

  it('domainName and portalUrl must agree; domainName needs certificateArn; portalUrl alone is used as given', () => {
    expect(() => build({ senderEmail: 'portal@clinic.test', domainName: 'portal.clinic.test', certificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/abc', portalUrl: 'https://other.clinic.test' })).toThrow(
      /portalUrl \(https:\/\/other\.clinic\.test\) and domainName \(portal\.clinic\.test\) disagree/,
    );
    expect(() => build({ senderEmail: 'portal@clinic.test', domainName: 'portal.clinic.test' })).toThrow(/certificateArn/);
    const given = build({ senderEmail: 'portal@clinic.test', portalUrl: 'https://portal.clinic.test/' });
    expect(new Set(portalUrlOf(given).filter((v) => v !== undefined))).toEqual(new Set(['"https://portal.clinic.test"']));
  });
});

describe('placeholder values (issue 12.5)', () => {
  it('recognizes the reserved example and test domains, and nothing real', () => {
    for (const v of ['no-reply@example.com', 'https://portal.example.com', 'https://example.org/x', 'a@b.example.net', 'portal@clinic.test', 'https://portal.practice.example', 'clinic.test', 'x@host.invalid']) {
      expect(isExampleValue(v), v).toBe(true);
    }
    for (const v of ['portal@stmarys-clinic.org', 'https://portal.examples.com', 'https://testclinic.com', 'https://portal.test-clinic.org', 'mail.clinic.co.uk']) {
      expect(isExampleValue(v), v).toBe(false);
    }
  });

  it('a deploy with placeholder values is refused with a message that names each value; allowPlaceholders lets a test synth through', () => {
    const c = parseStackContext((n) => ({ senderEmail: 'portal@clinic.test', portalUrl: 'https://portal.example.com', alarmEmail: 'ops@stmarys-clinic.org' })[n]);
    expect(placeholderProblems(c)).toEqual([
      'senderEmail is a placeholder (portal@clinic.test): give the real value with -c senderEmail=...',
      'portalUrl is a placeholder (https://portal.example.com): give the real value with -c portalUrl=...',
    ]);
    expect(() => refusePlaceholders(c)).toThrow(/refusing placeholder values[\s\S]*senderEmail is a placeholder \(portal@clinic\.test\)[\s\S]*portalUrl is a placeholder/);
    expect(() => refusePlaceholders({ ...c, allowPlaceholders: true })).not.toThrow();
    const app = new App({ context: { ...cdkJson.context, senderEmail: 'portal@clinic.test', 'aws:cdk:bundling-stacks': [] } });
    expect(() => portalStackFromContext(app)).toThrow(/senderEmail is a placeholder \(portal@clinic\.test\)/);
  });

  it('cdk.json lets nothing through: no allowPlaceholders, no example values', () => {
    expect(cdkJson.context.allowPlaceholders).toBeUndefined();
    for (const [key, value] of Object.entries(cdkJson.context)) {
      if (typeof value === 'string') expect(isExampleValue(value), key).toBe(false);
    }
    expect(cdkJson.context.senderEmail).toBeUndefined();
  });

  it('`cdk deploy` itself stops with the message, before anything reaches AWS (bare, and with example values)', () => {
    const cdk = path.join(repoRoot, 'node_modules', '.bin', 'cdk');
    // No credentials and no metadata service: if the app let the deploy through, the CLI would
    // fail later with a credentials error, not with our message.
    const env = { ...process.env, AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_PROFILE: '', AWS_EC2_METADATA_DISABLED: 'true', CDK_DISABLE_VERSION_CHECK: '1' };
    const run = (...args: string[]) => spawnSync(cdk, ['deploy', '--require-approval', 'never', '--output', path.join(repoRoot, 'cdk.out', 'deploy-guard'), ...args], { cwd: repoRoot, env, encoding: 'utf8', timeout: 150_000 });
    const bare = run();
    expect(bare.status).not.toBe(0);
    expect(bare.stderr).toMatch(/senderEmail is required/);
    const example = run('-c', 'senderEmail=no-reply@example.com', '-c', 'portalUrl=https://portal.example.com');
    expect(example.status).not.toBe(0);
    expect(example.stderr).toMatch(/senderEmail is a placeholder \(no-reply@example\.com\)/);
    expect(example.stderr).toMatch(/portalUrl is a placeholder \(https:\/\/portal\.example\.com\)/);
  });
});

describe('SES identity (issue 12.5)', () => {
  it('a domain identity with DKIM records in the zone when mailDomain has its hosted zone; grants stay on the identity ARN and the sender address', () => {
    const b = build({ senderEmail: 'portal@clinic.test', mailDomain: 'clinic.test', hostedZoneId: 'Z0123456789ABCDEFGHIJ' });
    const [identityId, identity] = ofType(b, 'AWS::SES::EmailIdentity')[0]!;
    expect(identity.Properties.EmailIdentity).toBe('clinic.test');
    const dkim = ofType(b, 'AWS::Route53::RecordSet').filter(([, r]) => r.Properties.Type === 'CNAME');
    expect(dkim).toHaveLength(3);
    for (const [, r] of dkim) expect(JSON.stringify(r.Properties.Name)).toContain(identityId);
    const invite = b.resources[logicalId(b, b.stack.functions.get('invitation-create')!.policy)].Properties.PolicyDocument.Statement as Json[];
    const send = invite.filter((s) => JSON.stringify(s.Action).includes('ses:SendEmail'));
    expect(send).toHaveLength(1);
    expect(JSON.stringify(send[0].Resource)).toContain(identityId);
    expect(send[0].Condition).toEqual({ StringEquals: { 'ses:FromAddress': 'portal@clinic.test' } });
  });

  it('without a zone: the domain identity and its three DKIM records as outputs to add by hand; the sender must be at the domain', () => {
    const b = build({ senderEmail: 'portal@mail.clinic.test', mailDomain: 'clinic.test' });
    expect(ofType(b, 'AWS::SES::EmailIdentity')[0]![1].Properties.EmailIdentity).toBe('clinic.test');
    expect(Object.keys(b.template.Outputs)).toEqual(expect.arrayContaining(['DkimRecord1', 'DkimRecord2', 'DkimRecord3']));
    expect(() => build({ senderEmail: 'portal@other.test', mailDomain: 'clinic.test' })).toThrow(/senderEmail \(portal@other\.test\) is not at mailDomain \(clinic\.test\)/);
  });

  it('with mailIdentity=existing no identity is created and sending is still scoped to that identity ARN', () => {
    const b = build({ senderEmail: 'portal@clinic.test', env: 'staging', mailIdentity: 'existing' });
    expect(ofType(b, 'AWS::SES::EmailIdentity')).toEqual([]);
    const invite = b.resources[logicalId(b, b.stack.functions.get('invitation-create')!.policy)].Properties.PolicyDocument.Statement as Json[];
    const send = invite.find((s) => JSON.stringify(s.Action).includes('ses:SendEmail'));
    expect(JSON.stringify(send.Resource)).toContain(':identity/portal@clinic.test');
    expect(JSON.stringify(send.Resource)).not.toContain('identity/*');
  });
});

describe('rule 34: nobody signs in to Cognito around our throttles', () => {
  const client = (b: Built, which: 'staffClient' | 'patientClient') => b.resources[logicalId(b, b.stack.identity[which])].Properties;

  it('staff app client: a secret, USER_PASSWORD_AUTH (+ refresh) only, and propagated user context data for threat protection (13.13)', () => {
    const c = client(plain, 'staffClient');
    expect(c.GenerateSecret).toBe(true);
    expect([...c.ExplicitAuthFlows].sort()).toEqual(['ALLOW_REFRESH_TOKEN_AUTH', 'ALLOW_USER_PASSWORD_AUTH']);
    expect(c.EnablePropagateAdditionalUserContextData).toBe(true);
  });

  it('patient app client: ADMIN_USER_PASSWORD_AUTH (+ refresh) only: no USER_PASSWORD_AUTH, no SRP, no secret to leak', () => {
    const c = client(plain, 'patientClient');
    expect([...c.ExplicitAuthFlows].sort()).toEqual(['ALLOW_ADMIN_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH']);
    expect(c.GenerateSecret).toBe(false);
  });

  it('the staff client secret is in no output, no function environment and no other resource of the template', () => {
    const staffClientId = logicalId(plain, plain.stack.identity.staffClient);
    const text = JSON.stringify(plain.template);
    expect(text).not.toMatch(/ClientSecret/);
    // The client is referenced by id only (Ref), never through an attribute.
    expect(text).not.toContain(`["${staffClientId}",`);
    for (const [id, fn] of functionsOf(plain)) {
      for (const [name, value] of Object.entries(fn.Properties.Environment?.Variables ?? {})) {
        expect(name, id).not.toMatch(/SECRET/i);
        if (name !== 'STAFF_CLIENT_ID') expect(JSON.stringify(value), `${id} ${name}`).not.toContain(staffClientId);
      }
    }
  });

  it('no public function holds a grant that deletes, enables or disables a login; only registration creates one', () => {
    const targets: GrantTargets = {
      region: 'r', recordsTableArn: 'records', recordsIndexArns: [], auditTableArn: 'audit', dataKeyArn: 'key', staffPoolArn: 'staffPool',
      patientPoolArn: 'patientPool', emailIdentityArn: 'identity', configurationSetArn: 'set', pinKeyArn: 'pin', senderEmail: 'a@b.c',
    };
    const actionsOf = (route: Route) => new Set(route.grants.flatMap((g) => grantPermissions[g](targets).flatMap((p) => p.actions)));
    const registering = ['registration-create', 'email-match-confirm'];
    for (const route of routes.filter((r) => r.caller === 'public')) {
      const actions = actionsOf(route);
      for (const forbidden of ['cognito-idp:AdminDeleteUser', 'cognito-idp:AdminEnableUser', 'cognito-idp:AdminDisableUser', 'cognito-idp:AdminAddUserToGroup']) {
        expect(actions.has(forbidden), `${route.id}: ${forbidden}`).toBe(false);
      }
      if (!registering.includes(route.id)) expect(actions.has('cognito-idp:AdminCreateUser'), `${route.id}: AdminCreateUser`).toBe(false);
      // Staff administration is never public.
      expect((route.grants as readonly string[]).includes('staffPool:admin'), route.id).toBe(false);
    }
  });
});

describe('outputs the staff CLI and the smoke check read', () => {
  it('ApiUrl, PortalUrl, StaffUserPoolId, StaffClientId, PatientUserPoolId, RecordsTableName, AuditTableName, Region', () => {
    const outputs = plain.template.Outputs as Record<string, Json>;
    for (const name of ['ApiUrl', 'PortalUrl', 'StaffUserPoolId', 'StaffClientId', 'PatientUserPoolId', 'PatientClientId', 'RecordsTableName', 'AuditTableName', 'AlarmTopicArn', 'Region']) {
      expect(outputs[name], name).toBeDefined();
    }
    expect(outputs.Region.Value).toEqual({ Ref: 'AWS::Region' });
    expect(outputs.StaffUserPoolId.Value).toEqual({ Ref: logicalId(plain, plain.stack.identity.staffPool) });
  });
});

describe('cdk-nag with every option on', () => {
  it('the default stack (no reserved concurrency: acknowledged as LambdaConcurrency) has no unacknowledged finding', () => {
    const found = nagPacks().flatMap((pack) => pack.validateScope(plain.stack).violations.map((v) => `${v.severity} ${v.ruleName}`));
    expect(found).toEqual([]);
  });

  it('a custom domain, alias and DKIM records, reserved concurrency and an environment add no unacknowledged finding', () => {
    const b = build({
      senderEmail: 'portal@clinic.test',
      env: 'staging',
      domainName: 'portal.clinic.test',
      certificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/0f0e0d0c-0000-1111-2222-333344445555',
      hostedZoneId: 'Z0123456789ABCDEFGHIJ',
      mailDomain: 'clinic.test',
      reservedConcurrency: '5',
      accountConcurrencyLimit: '1000',
      alarmEmail: 'ops@clinic.test',
    });
    const found = nagPacks().flatMap((pack) => pack.validateScope(b.stack).violations.map((v) => `${v.severity} ${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`));
    expect(found).toEqual([]);
  });
});
