/**
 * The synthesized stack, asserted property by property. One synthesis for the whole file
 * (it bundles every function with esbuild), shared by every test.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { App, CfnElement, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AttributeType, Table } from 'aws-cdk-lib/aws-dynamodb';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { tables as tableDefinitions, type TableDefinition } from '../../lib/data/tables.ts';

const tables = tableDefinitions as readonly TableDefinition[];
import { grantsOf, routes, type Grant, type Route } from '../../lib/routes.ts';
import { accessLogFields, defaultStageName, stageThrottling, wafRateLimits } from '../../lib/stack/api.ts';
import { parseStackContext } from '../../lib/stack/context.ts';
import { throttled429Threshold } from '../../lib/stack/monitoring.ts';
import { nagAcknowledgements } from '../../lib/stack/nag-acknowledgements.ts';
import { nagPacks } from '../../lib/stack/nag-packs.ts';
import { repoRoot } from '../../lib/stack/portal-function.ts';
import { PortalAccessStack } from '../../lib/stack/portal-stack.ts';

type Json = any; // synthesized CloudFormation JSON

let app: App;
let stack: PortalAccessStack;
let template: Template;
let resources: Record<string, Json>;

// cdk.json's context (feature flags and defaults), as `cdk synth` would pass it.
const cdkContext = (JSON.parse(readFileSync(path.join(repoRoot, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> }).context;

beforeAll(() => {
  app = new App({ context: { ...cdkContext, senderEmail: 'portal@clinic.test', portalUrl: 'https://portal.clinic.test', allowPlaceholders: 'true' } });
  const ctx = parseStackContext((name) => app.node.tryGetContext(name));
  stack = new PortalAccessStack(app, 'PortalAccessTest', {
    senderEmail: ctx.senderEmail,
    portalUrl: ctx.portalUrl!,
    practiceName: 'Test Practice',
    alarmEmail: 'ops@clinic.test',
  });
  template = Template.fromStack(stack);
  resources = template.toJSON().Resources as Record<string, Json>;
});

// ---------------------------------------------------------------- helpers

const logicalId = (c: IConstruct): string =>
  stack.resolve(stack.getLogicalId(CfnElement.isCfnElement(c) ? c : (c.node.defaultChild as CfnElement))) as string;
const ofType = (type: string): [string, Json][] => Object.entries(resources).filter(([, r]) => r.Type === type);
const getAtt = (id: string, attr = 'Arn') => ({ 'Fn::GetAtt': [id, attr] });
const asArray = <T>(v: T | T[]): T[] => (Array.isArray(v) ? v : [v]);

/** The function resource of a route, found by the description PortalFunction gives it. */
function functionOf(route: Route): [string, Json] {
  const found = ofType('AWS::Lambda::Function').filter(([, r]) => String(r.Properties.Description).startsWith(`portal-access ${route.id}:`));
  expect(found, route.id).toHaveLength(1);
  return found[0]!;
}

/** Path of an AWS::ApiGateway::Resource, walking ParentId up to the API root. */
function resourcePath(id: string): string {
  const r = resources[id];
  const parent = r.Properties.ParentId;
  const prefix = parent.Ref ? resourcePath(parent.Ref) : '';
  return `${prefix}/${r.Properties.PathPart}`;
}

/** Statements of every IAM policy in the template: managed, inline, and roles' inline policies. */
function allStatements(): { owner: string; statement: Json }[] {
  const out: { owner: string; statement: Json }[] = [];
  for (const [id, r] of Object.entries(resources)) {
    const docs: Json[] = [];
    if (r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy') docs.push(r.Properties.PolicyDocument);
    if (r.Type === 'AWS::IAM::Role') for (const p of r.Properties.Policies ?? []) docs.push(p.PolicyDocument);
    for (const doc of docs) for (const statement of doc.Statement) out.push({ owner: id, statement });
  }
  return out;
}

// ---------------------------------------------------------------- routes and functions

describe('routes', () => {
  it('every route in the route table has its method on the API, proxied to a function built from its entry', () => {
    const apiId = logicalId(stack.api.api);
    for (const route of routes) {
      const [fnId, fn] = functionOf(route);
      expect(existsSync(path.join(repoRoot, route.entry)), route.entry).toBe(true);
      expect(fn.Properties.Description).toContain(`(${route.entry})`);
      expect(fn.Properties.Handler).toBe('index.handler');

      const methods = ofType('AWS::ApiGateway::Method').filter(
        ([, m]) => m.Properties.HttpMethod === route.method && m.Properties.ResourceId.Ref && resourcePath(m.Properties.ResourceId.Ref) === route.path,
      );
      expect(methods, `${route.method} ${route.path}`).toHaveLength(1);
      const method = methods[0]![1].Properties;
      expect(method.RestApiId).toEqual({ Ref: apiId });
      expect(method.Integration.Type).toBe('AWS_PROXY');
      expect(method.Integration.IntegrationHttpMethod).toBe('POST');
      expect(JSON.stringify(method.Integration.Uri)).toContain(JSON.stringify(getAtt(fnId)));
    }
    // Nothing on the API that the route table does not declare.
    expect(ofType('AWS::ApiGateway::Method')).toHaveLength(routes.length);
    // One function per route, plus the token-scope trigger.
    expect(ofType('AWS::Lambda::Function')).toHaveLength(routes.length + stack.triggers.size);
  });

  it('lets API Gateway invoke each function only from its own method', () => {
    for (const route of routes) {
      const [fnId] = functionOf(route);
      const permissions = ofType('AWS::Lambda::Permission').filter(([, p]) => JSON.stringify(p.Properties.FunctionName).includes(fnId));
      expect(permissions, route.id).toHaveLength(1); // allowTestInvoke: false
      const p = permissions[0]![1].Properties;
      expect(p.Principal).toBe('apigateway.amazonaws.com');
      const sourceArn = JSON.stringify(p.SourceArn);
      expect(sourceArn).toContain(`"${logicalId(stack.api.api.deploymentStage)}"},"/${route.method}${route.path.replace(/\{[^}]+\}/g, '*')}"`);
    }
  });

  it('runs every function on Node.js 22 or newer, arm64, 512 MB, 10 s, traced, with its own log group and no reserved concurrency (issue 12.5)', () => {
    for (const route of routes) {
      const [, fn] = functionOf(route);
      const p = fn.Properties;
      const major = Number(/^nodejs(\d+)\.x$/.exec(p.Runtime)?.[1]);
      expect(major, `${route.id} runtime ${p.Runtime}`).toBeGreaterThanOrEqual(22);
      expect(p.Architectures).toEqual(['arm64']);
      expect(p.MemorySize).toBe(512);
      expect(p.Timeout).toBe(10);
      expect(p.TracingConfig).toEqual({ Mode: 'Active' });
      // Reserving takes from the account pool, too small on a new account: only with -c reservedConcurrency (deploy.test.ts).
      expect(p.ReservedConcurrentExecutions, route.id).toBeUndefined();
      expect(p.LoggingConfig.LogGroup).toEqual({ Ref: logicalId(stack.functions.get(route.id)!.logGroup) });
    }
  });

  it('gives every function each variable lambdas/config.ts reads, from the stack', () => {
    const ids = {
      records: logicalId(stack.data.tables.records),
      audit: logicalId(stack.data.tables.audit),
      staffPool: logicalId(stack.identity.staffPool),
      staffClient: logicalId(stack.identity.staffClient),
      patientPool: logicalId(stack.identity.patientPool),
      patientClient: logicalId(stack.identity.patientClient),
      configurationSet: logicalId(stack.mail.configurationSet),
    };
    for (const route of routes) {
      const [, fn] = functionOf(route);
      expect(fn.Properties.Environment.Variables, route.id).toEqual({
        RECORDS_TABLE: { Ref: ids.records },
        AUDIT_TABLE: { Ref: ids.audit },
        STAFF_POOL_ID: { Ref: ids.staffPool },
        STAFF_CLIENT_ID: { Ref: ids.staffClient },
        PATIENT_POOL_ID: { Ref: ids.patientPool },
        PATIENT_CLIENT_ID: { Ref: ids.patientClient },
        PORTAL_URL: 'https://portal.clinic.test',
        PRACTICE_NAME: 'Test Practice',
        SENDER_EMAIL: 'portal@clinic.test',
        SES_CONFIGURATION_SET: { Ref: ids.configurationSet },
        PIN_KEY_ID: getAtt(logicalId(stack.pinKey.key)),
        // An ARN, not a secret: only the two lobby functions may use the key (grant 'lobbyKey:mac').
        LOBBY_KEY_ID: getAtt(logicalId(stack.lobbyKey.key)),
      });
    }
  });
});

// ---------------------------------------------------------------- least privilege

/**
 * What each grant must give, written out independently of lib/stack/grants.ts. Resource kinds:
 * the records table, each of its indexes, the audit table, the data key, the staff pool.
 */
const recordIndexes = tables.find((t) => t.id === 'records')!.indexes.map((i) => `records/index/${i.indexName}`);
const KEY_READ = ['key:kms:Decrypt', 'key:kms:DescribeKey'];
const KEY_WRITE = [...KEY_READ, 'key:kms:Encrypt', 'key:kms:GenerateDataKey'];
const RECORDS_READ = ['records:dynamodb:GetItem', 'records:dynamodb:BatchGetItem', 'records:dynamodb:Query', ...recordIndexes.map((i) => `${i}:dynamodb:Query`), ...KEY_READ];
const expectedByGrant: { readonly [G in Grant]: readonly string[] } = {
  'records:read': RECORDS_READ,
  'records:write': [
    ...RECORDS_READ,
    ...['PutItem', 'UpdateItem', 'DeleteItem', 'ConditionCheckItem'].map((a) => `records:dynamodb:${a}`),
    ...KEY_WRITE,
  ],
  'audit:append': ['audit:dynamodb:PutItem', ...KEY_WRITE],
  'audit:read': ['audit:dynamodb:GetItem', 'audit:dynamodb:Query', ...KEY_READ],
  'staffPool:read': ['staffPool:cognito-idp:AdminGetUser'],
  'staffPool:list': ['AdminGetUser', 'AdminListGroupsForUser', 'ListUsers', 'ListUsersInGroup'].map((a) => `staffPool:cognito-idp:${a}`),
  'throttle:readwrite': [...['GetItem', 'BatchGetItem', 'UpdateItem', 'DeleteItem'].map((a) => `records[THROTTLE#*]:dynamodb:${a}`), ...KEY_WRITE],
  'challenge:write': ['records[CHALLENGE#*]:dynamodb:PutItem', ...KEY_WRITE],
  'patientPool:admin': ['AdminCreateUser', 'AdminDeleteUser', 'AdminDisableUser', 'AdminEnableUser', 'AdminSetUserPassword', 'AdminUserGlobalSignOut'].map(
    (a) => `patientPool:cognito-idp:${a}`,
  ),
  'patientPool:register': ['AdminCreateUser', 'AdminSetUserPassword'].map((a) => `patientPool:cognito-idp:${a}`),
  'pinKey:encrypt': ['pinKey[purpose=invitation-pin]:kms:Encrypt'],
  'pinKey:decrypt': ['pinKey[purpose=invitation-pin]:kms:Decrypt'],
  'mail:send': ['emailIdentity[from=portal@clinic.test]:ses:SendEmail', 'configurationSet[from=portal@clinic.test]:ses:SendEmail'],
  'reset:issue': [...['GetItem', 'PutItem', 'DeleteItem'].map((a) => `records[RESET#*,RESETLINK#*]:dynamodb:${a}`), ...KEY_WRITE],
  'patientPool:reset': ['patientPool:cognito-idp:AdminSetUserPassword', 'patientPool:cognito-idp:AdminUserGlobalSignOut'],
  'lobby:issue': ['records[LOBBY#*]:dynamodb:PutItem', ...KEY_WRITE],
  'lobby:redeem': ['records[LOBBY#*]:dynamodb:GetItem', 'records[LOBBY#*]:dynamodb:UpdateItem', 'records[LOBBYSESSION#*]:dynamodb:PutItem', ...KEY_WRITE],
  'lobby:session': ['records[LOBBYSESSION#*,PATIENT#*]:dynamodb:GetItem', ...KEY_READ],
  'lobby:end': ['records[LOBBYSESSION#*]:dynamodb:DeleteItem', ...KEY_WRITE],
  'emailMatch:issue': ['records[EMAILMATCH#*,EMAILMATCHLINK#*]:dynamodb:PutItem', 'records[EMAILMATCH#*,EMAILMATCHLINK#*]:dynamodb:DeleteItem', ...KEY_WRITE],
  'selfRegistration:write': [...['GetItem', 'PutItem', 'DeleteItem'].map((a) => `records[SELFREG*]:dynamodb:${a}`), ...KEY_WRITE],
  'selfRegistration:read': ['records[SELFREG*]:dynamodb:GetItem', 'records[SELFREG*]:dynamodb:Query', ...KEY_READ],
  'staffPool:signIn': ['staffPool:cognito-idp:DescribeUserPoolClient'],
  'staffPool:admin': [
    'AdminAddUserToGroup',
    'AdminCreateUser',
    'AdminDeleteSoftwareToken',
    'AdminDisableUser',
    'AdminEnableUser',
    'AdminGetUser',
    'AdminListGroupsForUser',
    'AdminRemoveUserFromGroup',
    'AdminSetUserMFAPreference',
    'AdminSetUserPassword',
    'AdminUserGlobalSignOut',
    'ListUsers',
    'ListUsersInGroup',
  ].map((a) => `staffPool:cognito-idp:${a}`),
  'patientPool:signIn': ['patientPool:cognito-idp:AdminInitiateAuth'],
  'staff:session': ['records[STAFF#*]:dynamodb:GetItem', ...KEY_READ],
  'phoneCode:claim': ['records[INVITE#*]:dynamodb:UpdateItem', ...KEY_WRITE],
  // This stack has no SMS context: no phone-code key, no origination identity (test/cdk/phone-codes.test.ts has them).
  'phoneCodeKey:mac': [],
  'lobbyKey:mac': ['lobbyKey:kms:GenerateMac'],
  'sms:send': [],
};
const baseline = ['ownLogs:logs:CreateLogStream', 'ownLogs:logs:PutLogEvents', '*:xray:PutTraceSegments', '*:xray:PutTelemetryRecords'];

describe('least privilege', () => {
  it("each function's role has one managed policy with exactly the actions its grants imply", () => {
    const kinds = (route: Route, resource: Json, condition: Json): string[] => {
      const ids = {
        records: logicalId(stack.data.tables.records),
        audit: logicalId(stack.data.tables.audit),
        key: logicalId(stack.data.key),
        staffPool: logicalId(stack.identity.staffPool),
        patientPool: logicalId(stack.identity.patientPool),
        pinKey: logicalId(stack.pinKey.key),
        lobbyKey: logicalId(stack.lobbyKey.key),
        emailIdentity: logicalId(stack.mail.identity!),
        configurationSet: logicalId(stack.mail.configurationSet),
        ownLogs: logicalId(stack.functions.get(route.id)!.logGroup),
      };
      return asArray(resource).map((r) => {
        if (r === '*') return '*';
        const flat = JSON.stringify(r);
        const index = /"\/index\/([A-Za-z0-9_.-]+)"/.exec(flat);
        for (const [kind, id] of Object.entries(ids)) {
          if (!flat.includes(`"${id}"`)) continue;
          if (index) return `${kind}/index/${index[1]}`;
          const leading = condition?.['ForAllValues:StringLike']?.['dynamodb:LeadingKeys'];
          const purpose = condition?.StringEquals?.['kms:EncryptionContext:purpose'];
          const from = condition?.StringEquals?.['ses:FromAddress'];
          if (purpose) return `${kind}[purpose=${purpose}]`;
          if (from) return `${kind}[from=${from}]`;
          return leading ? `${kind}[${asArray(leading).join(',')}]` : kind;
        }
        throw new Error(`${route.id}: unexpected resource ${flat}`);
      });
    };

    for (const route of routes) {
      const fn = stack.functions.get(route.id)!;
      const [, role] = [logicalId(fn.role), resources[logicalId(fn.role)]];
      expect(role.Properties.Policies, `${route.id}: no inline policy`).toBeUndefined();
      expect(role.Properties.ManagedPolicyArns, route.id).toEqual([{ Ref: logicalId(fn.policy) }]);
      expect(ofType('AWS::IAM::Policy').filter(([, p]) => JSON.stringify(p.Properties.Roles ?? []).includes(logicalId(fn.role)))).toEqual([]);

      const actual = new Set<string>();
      for (const s of resources[logicalId(fn.policy)].Properties.PolicyDocument.Statement) {
        expect(s.Effect).toBe('Allow');
        for (const kind of kinds(route, s.Resource, s.Condition)) for (const a of asArray(s.Action)) actual.add(`${kind}:${a}`);
        // The data key is usable only through DynamoDB.
        if (JSON.stringify(s.Resource).includes(`"${logicalId(stack.data.key)}"`)) {
          expect(JSON.stringify(s.Condition?.StringEquals?.['kms:ViaService']), route.id).toContain('dynamodb.');
        }
        // '*' only where the service has no resource-level permissions (X-Ray).
        if (asArray(s.Resource).includes('*')) expect(asArray(s.Action).every((a: string) => a.startsWith('xray:')), route.id).toBe(true);
      }
      const expected = new Set([...baseline, ...grantsOf(route).flatMap((g) => expectedByGrant[g])]);
      expect([...actual].sort(), route.id).toEqual([...expected].sort());
    }
  });

  it('rule 19: no policy in the stack can update, delete or batch-write audit entries', () => {
    const auditId = logicalId(stack.data.tables.audit);
    const forbidden = /^dynamodb:(\*|UpdateItem|DeleteItem|BatchWriteItem|PartiQL.*|DeleteTable|UpdateTable|RestoreTable.*|ImportTable)$/;
    const onAudit = allStatements().filter(({ statement }) => JSON.stringify(statement.Resource).includes(`"${auditId}"`));
    expect(onAudit.length).toBeGreaterThan(0);
    for (const { owner, statement } of onAudit) {
      for (const action of asArray(statement.Action) as string[]) {
        expect(action, owner).not.toMatch(forbidden);
        expect(['dynamodb:PutItem', 'dynamodb:GetItem', 'dynamodb:Query'], owner).toContain(action);
      }
    }
    // Nor through a wildcard resource or a wildcard DynamoDB action anywhere.
    for (const { owner, statement } of allStatements()) {
      const actions = asArray(statement.Action) as string[];
      if (asArray(statement.Resource).includes('*')) expect(actions.filter((a) => a.startsWith('dynamodb:')), owner).toEqual([]);
      expect(actions.filter((a) => a === '*' || a === 'dynamodb:*'), owner).toEqual([]);
    }
    // Only routes granted audit:append can put audit entries.
    for (const route of routes) {
      const policy = resources[logicalId(stack.functions.get(route.id)!.policy)].Properties.PolicyDocument;
      const puts = policy.Statement.some(
        (s: Json) => JSON.stringify(s.Resource).includes(`"${auditId}"`) && asArray(s.Action).includes('dynamodb:PutItem'),
      );
      expect(puts, route.id).toBe((route.grants as readonly Grant[]).includes('audit:append'));
    }
  });
});

// ---------------------------------------------------------------- data

describe('data', () => {
  it('builds every table from lib/data/tables.ts: on demand, PITR, deletion protection, CMK, TTL, GSIs, retained', () => {
    const keyId = logicalId(stack.data.key);
    for (const def of tables) {
      const id = logicalId(stack.data.tables[def.id]);
      const table = resources[id];
      expect(table.DeletionPolicy, def.id).toBe('Retain');
      template.hasResourceProperties('AWS::DynamoDB::Table', {
        KeySchema: [
          { AttributeName: def.partitionKey, KeyType: 'HASH' },
          { AttributeName: def.sortKey, KeyType: 'RANGE' },
        ],
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        DeletionProtectionEnabled: true,
        SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: getAtt(keyId) },
        TimeToLiveSpecification: def.ttlAttribute ? { AttributeName: def.ttlAttribute, Enabled: true } : Match.absent(),
        GlobalSecondaryIndexes: def.indexes.length
          ? def.indexes.map((i) => ({
              IndexName: i.indexName,
              KeySchema: [{ AttributeName: i.partitionKey, KeyType: 'HASH' }, ...(i.sortKey ? [{ AttributeName: i.sortKey, KeyType: 'RANGE' }] : [])],
              Projection: { ProjectionType: 'ALL' },
            }))
          : Match.absent(),
      });
      expect(JSON.stringify(ofType('AWS::Backup::BackupSelection')[0]![1].Properties), def.id).toContain(`"${id}"`);
    }
  });

  it('rule 21: the customer-managed key rotates, is retained, and lets CloudWatch Logs use it only for this account', () => {
    const key = resources[logicalId(stack.data.key)];
    expect(key.Properties.EnableKeyRotation).toBe(true);
    expect(key.DeletionPolicy).toBe('Retain');
    const logs = key.Properties.KeyPolicy.Statement.find((s: Json) => JSON.stringify(s.Principal).includes('logs.'));
    expect(logs.Condition.ArnLike['kms:EncryptionContext:aws:logs:arn']).toBeDefined();
    // Every encryption key; KMS cannot rotate HMAC keys (lib/stack/lobby-key.ts).
    for (const [, k] of ofType('AWS::KMS::Key')) if (!String(k.Properties.KeySpec ?? '').startsWith('HMAC_')) expect(k.Properties.EnableKeyRotation).toBe(true);
  });

  it('rule 21: every log group is encrypted with the data key and has an explicit retention', () => {
    const keyId = logicalId(stack.data.key);
    const groups = ofType('AWS::Logs::LogGroup');
    // One for every function (each names it in its logging config) + access, execution, WAF.
    expect(groups.length).toBe(4);
    expect(new Set([...stack.functions.values(), ...stack.triggers.values()].map((f) => f.logGroup)).size).toBe(1);
    for (const [id, g] of groups) {
      expect(g.Properties.KmsKeyId, id).toEqual(getAtt(keyId));
      expect(g.Properties.RetentionInDays, id).toBeGreaterThanOrEqual(365);
      expect(g.DeletionPolicy, id).toBe('Retain');
    }
    expect(resources[logicalId(stack.api.accessLogs)].Properties.RetentionInDays).toBe(2192); // six years
  });
});

// ---------------------------------------------------------------- identity

describe('identity', () => {
  const pool = (which: 'patientPool' | 'staffPool') => resources[logicalId(stack.identity[which])];
  const client = (which: 'patientClient' | 'staffClient') => resources[logicalId(stack.identity[which])].Properties;

  it('rules 1 and 2: both pools require 15 characters and no composition rules', () => {
    for (const which of ['patientPool', 'staffPool'] as const) {
      expect(pool(which).Properties.Policies.PasswordPolicy, which).toMatchObject({
        MinimumLength: 15,
        RequireLowercase: false,
        RequireUppercase: false,
        RequireNumbers: false,
        RequireSymbols: false,
      });
    }
  });

  it('rule 16: the staff pool requires TOTP (and only TOTP); tokens live 60 min, refresh 24 h patients / 12 h staff', () => {
    expect(pool('staffPool').Properties).toMatchObject({ MfaConfiguration: 'ON', EnabledMfas: ['SOFTWARE_TOKEN_MFA'] });
    expect(pool('patientPool').Properties.MfaConfiguration).toBe('OFF');
    const minutes = { AccessToken: 'minutes', IdToken: 'minutes', RefreshToken: 'minutes' };
    expect(client('patientClient')).toMatchObject({ AccessTokenValidity: 60, IdTokenValidity: 60, RefreshTokenValidity: 24 * 60, TokenValidityUnits: minutes });
    expect(client('staffClient')).toMatchObject({ AccessTokenValidity: 60, IdTokenValidity: 60, RefreshTokenValidity: 12 * 60, TokenValidityUnits: minutes });
  });

  it('rule 13: both app clients prevent user-existence errors', () => {
    for (const which of ['patientClient', 'staffClient'] as const) expect(client(which).PreventUserExistenceErrors, which).toBe('ENABLED');
  });

  it('rule 17: app clients have token revocation on; no OAuth, users cannot write their own email', () => {
    for (const which of ['patientClient', 'staffClient'] as const) {
      const c = client(which);
      expect(c.AllowedOAuthFlowsUserPoolClient, which).toBe(false);
      expect(c.EnableTokenRevocation, which).toBe(true);
      expect(c.WriteAttributes, which).toEqual(['locale']);
    }
  });

  it('rule 22: pools are admin-create-only, deletion-protected and retained, with threat protection, and no user is created', () => {
    for (const which of ['patientPool', 'staffPool'] as const) {
      const p = pool(which);
      expect(p.Properties.AdminCreateUserConfig.AllowAdminCreateUserOnly, which).toBe(true);
      expect(p.Properties.DeletionProtection, which).toBe('ACTIVE');
      expect(p.DeletionPolicy, which).toBe('Retain');
      expect(p.Properties.UsernameAttributes, which).toBeUndefined();
      expect(p.Properties.AliasAttributes, which).toBeUndefined();
      expect(p.Properties.UserPoolTier, which).toBe('PLUS');
      expect(p.Properties.UserPoolAddOns.AdvancedSecurityMode, which).toBe('ENFORCED');
    }
    expect(ofType('AWS::Cognito::UserPoolUser')).toEqual([]);
    expect(ofType('AWS::Cognito::UserPoolUserToGroupAttachment')).toEqual([]);
    const groups = ofType('AWS::Cognito::UserPoolGroup').map(([, g]) => g.Properties);
    expect(groups.map((g) => g.GroupName).sort()).toEqual(['admin', 'staff']);
    for (const g of groups) expect(g.UserPoolId).toEqual({ Ref: logicalId(stack.identity.staffPool) });
  });
});

// ---------------------------------------------------------------- mail

describe('invitation PINs', () => {
  /** The routes whose policy allows `action` on the PIN key, and the conditions they carry. */
  const pinKeyUse = (action: string) => {
    const pinKeyId = logicalId(stack.pinKey.key);
    return routes.flatMap((route) =>
      (resources[logicalId(stack.functions.get(route.id)!.policy)].Properties.PolicyDocument.Statement as Json[])
        .filter((s) => JSON.stringify(s.Resource).includes(`"${pinKeyId}"`) && asArray(s.Action).includes(action))
        .map((s) => ({ route: route.id, condition: s.Condition, actions: asArray(s.Action) })),
    );
  };

  it('rule 10: PINs have a customer-managed key of their own, rotated and retained, passed to the functions as PIN_KEY_ID', () => {
    const key = resources[logicalId(stack.pinKey.key)];
    expect(key.Type).toBe('AWS::KMS::Key');
    expect(key.Properties.EnableKeyRotation).toBe(true);
    expect(key.DeletionPolicy).toBe('Retain');
    expect(logicalId(stack.pinKey.key)).not.toBe(logicalId(stack.data.key));
    const [, invite] = functionOf(routes.find((r) => r.id === 'invitation-create')!);
    expect(invite.Properties.Environment.Variables.PIN_KEY_ID).toEqual(getAtt(logicalId(stack.pinKey.key)));
  });

  it('rule 10: only the invite functions (staff and auto-invite) may encrypt and only access-code and registration may decrypt, each for the PIN context only', () => {
    const encrypt = pinKeyUse('kms:Encrypt');
    const decrypt = pinKeyUse('kms:Decrypt');
    // note-signed is the auto-invite: the same invitation (lambdas/domain/auto-invite.ts).
    expect(encrypt.map((u) => u.route).sort()).toEqual(['invitation-create', 'note-signed']);
    expect(decrypt.map((u) => u.route).sort()).toEqual(['invitation-access-code', 'registration-create']);
    for (const use of [...encrypt, ...decrypt]) {
      expect(use.actions, use.route).toHaveLength(1);
      expect(use.condition, use.route).toEqual({ StringEquals: { 'kms:EncryptionContext:purpose': 'invitation-pin' } });
    }
    // Nothing else in the stack is granted the PIN key through a wildcard either.
    for (const { owner, statement } of allStatements()) {
      if (asArray(statement.Resource).includes('*')) expect(asArray(statement.Action).some((a: string) => a.startsWith('kms:')), owner).toBe(false);
    }
  });

  it('mail:send: only invite and resend may send, only from the sender identity through the configuration set', () => {
    const senders = routes.filter((route) =>
      (resources[logicalId(stack.functions.get(route.id)!.policy)].Properties.PolicyDocument.Statement as Json[]).some((s) =>
        asArray(s.Action).some((a: string) => a.startsWith('ses:')),
      ),
    );
    expect(senders.map((r) => r.id).sort()).toEqual(expect.arrayContaining(['invitation-create', 'invitation-resend']));
    for (const route of senders) {
      const statements = (resources[logicalId(stack.functions.get(route.id)!.policy)].Properties.PolicyDocument.Statement as Json[]).filter((s) =>
        asArray(s.Action).some((a: string) => a.startsWith('ses:')),
      );
      for (const s of statements) {
        expect(asArray(s.Action), route.id).toEqual(['ses:SendEmail']);
        expect(asArray(s.Resource)).toHaveLength(2);
        expect(JSON.stringify(s.Resource)).toContain(`"${logicalId(stack.mail.configurationSet)}"`);
        expect(s.Condition).toEqual({ StringEquals: { 'ses:FromAddress': 'portal@clinic.test' } });
      }
    }
  });
});

describe('mail', () => {
  it('rule 21: the SES configuration set requires TLS and is the sender identity default', () => {
    const setId = logicalId(stack.mail.configurationSet);
    template.hasResourceProperties('AWS::SES::ConfigurationSet', { DeliveryOptions: { TlsPolicy: 'REQUIRE' } });
    template.hasResourceProperties('AWS::SES::EmailIdentity', {
      EmailIdentity: 'portal@clinic.test',
      ConfigurationSetAttributes: { ConfigurationSetName: { Ref: setId } },
    });
  });
});

// ---------------------------------------------------------------- API edge

describe('API', () => {
  it('rule 20/21: stage logs access as JSON with route templates (never raw paths), errors only, no data trace; traced and throttled', () => {
    const stage = resources[logicalId(stack.api.api.deploymentStage)].Properties;
    expect(stage.StageName).toBe(defaultStageName);
    expect(stage.TracingEnabled).toBe(true);
    expect(stage.AccessLogSetting.DestinationArn).toBeDefined();
    const format = JSON.parse(stage.AccessLogSetting.Format) as Record<string, string>;
    expect(format).toEqual(accessLogFields);
    expect(Object.values(format)).not.toContain('$context.path');
    expect(stage.AccessLogSetting.Format).not.toMatch(/\$context\.(path|authorizer|requestOverride)|querystring|\$input/);
    expect(stage.MethodSettings).toEqual([
      {
        HttpMethod: '*',
        ResourcePath: '/*',
        LoggingLevel: 'ERROR',
        DataTraceEnabled: false,
        MetricsEnabled: true,
        ThrottlingRateLimit: stageThrottling.rateLimit,
        ThrottlingBurstLimit: stageThrottling.burstLimit,
      },
    ]);
  });

  it('rule 21: the API is regional with a TLS 1.2+ security policy, and its execution log group exists before the stage', () => {
    template.hasResourceProperties('AWS::ApiGateway::RestApi', {
      EndpointConfiguration: { Types: ['REGIONAL'] },
      SecurityPolicy: Match.stringLikeRegexp('^SecurityPolicy_TLS13_1_2'),
      EndpointAccessMode: 'STRICT',
    });
    const execId = logicalId(stack.api.executionLogs);
    expect(JSON.stringify(resources[execId].Properties.LogGroupName)).toContain('API-Gateway-Execution-Logs_');
    expect(resources[logicalId(stack.api.api.deploymentStage)].DependsOn).toContain(execId);
  });

  it('answers unknown paths with a 404 problem+json, and the gateway defaults as problem+json', () => {
    const responses = Object.fromEntries(ofType('AWS::ApiGateway::GatewayResponse').map(([, r]) => [r.Properties.ResponseType, r.Properties]));
    const notFound = responses.MISSING_AUTHENTICATION_TOKEN;
    expect(notFound.StatusCode).toBe('404');
    expect(JSON.parse(notFound.ResponseTemplates['application/json'])).toMatchObject({ type: '/problems/not-found', title: 'Not Found', status: 404 });
    for (const type of ['DEFAULT_4XX', 'DEFAULT_5XX', 'MISSING_AUTHENTICATION_TOKEN', 'THROTTLED', 'WAF_FILTERED']) {
      expect(responses[type], type).toBeDefined();
      expect(responses[type].ResponseParameters['gatewayresponse.header.Content-Type'], type).toBe("'application/problem+json'");
      const body = JSON.parse(responses[type].ResponseTemplates['application/json']);
      expect(typeof body.type, type).toBe('string');
      expect(typeof body.title, type).toBe('string');
    }
    expect(responses.THROTTLED.StatusCode).toBe('429');
  });

  it('rule 6: a WAF web ACL with per-IP rate-based rules and AWS managed rules is associated with the stage and logs redacted', () => {
    const aclId = logicalId(stack.api.webAcl);
    const acl = resources[aclId].Properties;
    expect(acl.Scope).toBe('REGIONAL');
    const rate = acl.Rules.filter((r: Json) => r.Statement.RateBasedStatement).map((r: Json) => r.Statement.RateBasedStatement);
    expect(rate).toContainEqual(expect.objectContaining({ Limit: wafRateLimits.all, AggregateKeyType: 'IP', EvaluationWindowSec: 300 }));
    expect(rate).toContainEqual(expect.objectContaining({ Limit: wafRateLimits.post, AggregateKeyType: 'IP', ScopeDownStatement: expect.anything() }));
    const managed = acl.Rules.map((r: Json) => r.Statement.ManagedRuleGroupStatement?.Name).filter(Boolean);
    expect(managed).toContain('AWSManagedRulesCommonRuleSet');

    const [, assoc] = ofType('AWS::WAFv2::WebACLAssociation')[0]!;
    expect(assoc.Properties.WebACLArn).toEqual(getAtt(aclId));
    const arn = JSON.stringify(assoc.Properties.ResourceArn);
    expect(arn).toContain(`"${logicalId(stack.api.api)}"`);
    expect(arn).toContain(`"/stages/",{"Ref":"${logicalId(stack.api.api.deploymentStage)}"}`);

    template.hasResourceProperties('AWS::WAFv2::LoggingConfiguration', {
      ResourceArn: getAtt(aclId),
      RedactedFields: Match.arrayWith([{ SingleHeader: { Name: 'authorization' } }, { UriPath: {} }, { QueryString: {} }]),
    });
  });
});

// ---------------------------------------------------------------- alarms

describe('alarms', () => {
  const topicRef = () => ({ Ref: logicalId(stack.monitoring.topic) });

  it('alarm on any API 5XX, any Lambda throttle (per function) and a burst of 429s, all to the alarm topic', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/ApiGateway',
      MetricName: '5XXError',
      Statistic: 'Sum',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      Dimensions: Match.arrayWith([{ Name: 'ApiName', Value: Match.anyValue() }]),
      AlarmActions: [topicRef()],
    });
    // One alarm over every function's throttles (the region's sum, no dimension): an alarm per
    // function took the stack past CloudFormation's 500 resources.
    const throttles = ofType('AWS::CloudWatch::Alarm').filter(([, a]) => a.Properties.MetricName === 'Throttles');
    expect(throttles).toHaveLength(1);
    expect(throttles[0]![1].Properties).toMatchObject({ Namespace: 'AWS/Lambda', Statistic: 'Sum', Threshold: 0, ComparisonOperator: 'GreaterThanThreshold', AlarmActions: [topicRef()] });
    expect(throttles[0]![1].Properties.Dimensions).toBeUndefined();
    template.hasResourceProperties('AWS::Logs::MetricFilter', {
      LogGroupName: { Ref: logicalId(stack.api.accessLogs) },
      FilterPattern: '{ $.status = "429" }',
      MetricTransformations: [Match.objectLike({ MetricName: 'Throttled429', MetricValue: '1' })],
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'Throttled429', Threshold: throttled429Threshold, AlarmActions: [topicRef()] });
    for (const [id, alarm] of ofType('AWS::CloudWatch::Alarm')) expect(alarm.Properties.AlarmActions, id).toEqual([topicRef()]);
  });

  it('the alarm topic is KMS-encrypted and refuses non-TLS publishing', () => {
    const topic = resources[logicalId(stack.monitoring.topic)].Properties;
    expect(topic.KmsMasterKeyId).toBeDefined();
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
      },
    });
  });
});

describe('outputs', () => {
  it('exports what the staff CLI and the smoke check read: API and portal URLs, pool and client ids, table names, region', () => {
    const outputs = Object.keys(template.toJSON().Outputs as object);
    for (const name of ['ApiUrl', 'PortalUrl', 'StaffUserPoolId', 'StaffClientId', 'PatientUserPoolId', 'PatientClientId', 'RecordsTableName', 'AuditTableName', 'AlarmTopicArn', 'Region']) {
      expect(outputs).toContain(name);
    }
  });
});

// ---------------------------------------------------------------- cdk-nag

describe('cdk-nag', () => {
  // The same packs bin/portal-access.ts registers.
  const violations = (scope: IConstruct) => nagPacks().flatMap((pack) => pack.validateScope(scope).violations);

  it('runs the AwsSolutions, HIPAA Security and NIST 800-53 R5 packs', () => {
    expect(nagPacks().map((pack) => pack.name)).toEqual(['AwsSolutions', 'HIPAA.Security', 'NIST.800.53.R5']);
  });

  it('AwsSolutions, HIPAA Security and NIST 800-53 R5 report no unacknowledged error or warning', () => {
    const found = violations(stack).map((v) => `${v.severity} ${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`);
    expect(found).toEqual([]);
  });

  it('still flags what is not acknowledged (the packs really run here)', () => {
    const probe = new Stack(new App(), 'Probe');
    new Table(probe, 'Unprotected', { partitionKey: { name: 'pk', type: AttributeType.STRING } });
    expect(violations(probe).map((v) => v.ruleName)).toEqual(expect.arrayContaining(['AwsSolutions-DDB3', 'HIPAA.Security-DynamoDBPITREnabled', 'NIST.800.53.R5-DynamoDBPITREnabled']));
  });

  it('every acknowledgement has a specific reason (>= 30 characters) and a target', () => {
    for (const ack of nagAcknowledgements) {
      expect(ack.reason.trim().length, ack.id).toBeGreaterThanOrEqual(30);
      expect(ack.targets(stack).length, ack.id).toBeGreaterThan(0);
    }
    // And nothing in the tree is acknowledged outside the list, or without a reason.
    const listed = new Set(nagAcknowledgements.map((a) => a.id));
    for (const c of stack.node.findAll()) {
      for (const m of c.node.metadata.filter((e) => e.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)) {
        for (const [id, reason] of Object.entries(m.data as Record<string, string>)) {
          expect(listed.has(id.replace(/^annotation::/i, '')), `${c.node.path}: ${id}`).toBe(true);
          expect(reason.length, id).toBeGreaterThanOrEqual(30);
        }
      }
    }
  });

  it('acknowledges nothing at stack level: each acknowledgement sits on the constructs it concerns', () => {
    const onStack = stack.node.metadata.filter((e) => e.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY);
    expect(onStack).toEqual([]);
  });
});

describe('context', () => {
  it('requires senderEmail with a clear error (portalUrl is optional), and accepts the optional values', () => {
    expect(() => parseStackContext(() => undefined)).toThrow(/senderEmail is required/);
    expect(() => parseStackContext(() => undefined)).not.toThrow(/portalUrl/);
    expect(() => parseStackContext((n) => ({ senderEmail: 'x', portalUrl: 'http://insecure.test' })[n])).toThrow(/senderEmail[\s\S]*portalUrl must be the https URL/);
    expect(
      parseStackContext((n) => ({ senderEmail: 'a@b.test', portalUrl: 'https://p.test', env: 'staging', reservedConcurrency: '5', accountConcurrencyLimit: '1000' })[n]),
    ).toEqual({ senderEmail: 'a@b.test', portalUrl: 'https://p.test', env: 'staging', reservedConcurrency: 5, accountConcurrencyLimit: 1000 });
  });
});

describe('token scope', () => {
  it('rule 3: both pools run the V2 pre-token-generation trigger that strips aws.cognito.signin.user.admin', () => {
    const trigger = logicalId(stack.triggers.get('token-scope')!.function);
    const pools = ofType('AWS::Cognito::UserPool');
    expect(pools).toHaveLength(2);
    for (const [, pool] of pools) {
      expect(pool.Properties.LambdaConfig.PreTokenGenerationConfig).toEqual({
        LambdaArn: { 'Fn::GetAtt': [trigger, 'Arn'] },
        LambdaVersion: 'V2_0',
      });
    }
  });

  it('rule 17: the trigger reads only login links and records (GetItem by ACCOUNT#/PATIENT# key), writes nothing, and knows only the table name', () => {
    const trigger = stack.triggers.get('token-scope')!;
    const statements = resources[logicalId(trigger.policy)].Properties.PolicyDocument.Statement as Json[];
    const dynamo = statements.filter((s) => asArray(s.Action).some((a: string) => a.startsWith('dynamodb:')));
    expect(dynamo).toHaveLength(1);
    expect(asArray(dynamo[0]!.Action)).toEqual(['dynamodb:GetItem']);
    expect(dynamo[0]!.Condition).toEqual({ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['ACCOUNT#*', 'PATIENT#*'] } });
    const actions = statements.flatMap((s) => asArray(s.Action) as string[]);
    expect(actions.filter((a) => a.startsWith('kms:')).sort()).toEqual(['kms:Decrypt', 'kms:DescribeKey']);
    // Besides its own logs and traces, nothing: no Cognito, no SES, no write anywhere.
    expect(actions.filter((a) => !/^(dynamodb|kms|logs|xray):/.test(a))).toEqual([]);
    const fn = resources[logicalId(trigger.function)];
    expect(Object.keys(fn.Properties.Environment.Variables)).toEqual(expect.arrayContaining(['RECORDS_TABLE']));
    expect(Object.keys(fn.Properties.Environment.Variables)).not.toContain('PATIENT_POOL_ID');
  });
});
