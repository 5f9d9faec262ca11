/**
 * Route grants (lib/routes.ts) → IAM permissions. One entry per grant; a function's policy is
 * the merge of its grants' entries and nothing else (plus its own logging and tracing, added by
 * PortalFunction). Explicit actions only: CDK's grantReadWriteData would add BatchWriteItem,
 * DeleteItem, Scan... which no route needs, and would let a function touch the audit table in
 * ways security rule 19 forbids.
 *
 * Adding a grant (e.g. 'mail:send', 'patientPool:admin', 'pinKey:decrypt'): add it to the Grant
 * type in lib/routes.ts, then one entry here; GrantTargets already carries the pools, the key,
 * the SES identity and configuration set.
 */
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { Grant } from '../routes.ts';

/** What grants can point at: ARNs and names only, so this file needs no constructs. */
export interface GrantTargets {
  /** The stack's region (a token in an environment-agnostic stack). */
  readonly region: string;
  readonly recordsTableArn: string;
  /** One ARN per index of the records table (from lib/data/tables.ts), never index/*. */
  readonly recordsIndexArns: readonly string[];
  readonly auditTableArn: string;
  readonly dataKeyArn: string;
  readonly staffPoolArn: string;
  readonly patientPoolArn: string;
  readonly emailIdentityArn: string;
  readonly configurationSetArn: string;
}

/** One permission: actions on resources, optionally under conditions. */
export interface Permission {
  readonly actions: readonly string[];
  readonly resources: readonly string[];
  readonly conditions?: Readonly<Record<string, Record<string, string | readonly string[]>>>;
}

// The table key may be used only by DynamoDB acting for the function (kms:ViaService), so a
// function cannot call KMS directly to decrypt anything else under that key (e.g. log data).
const viaDynamoDb = (t: GrantTargets): Record<string, Record<string, string>> => ({
  StringEquals: { 'kms:ViaService': `dynamodb.${t.region}.amazonaws.com` },
});

const keyRead = (t: GrantTargets): Permission => ({
  actions: ['kms:Decrypt', 'kms:DescribeKey'],
  resources: [t.dataKeyArn],
  conditions: viaDynamoDb(t),
});

const keyWrite = (t: GrantTargets): Permission => ({
  actions: ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey'],
  resources: [t.dataKeyArn],
  conditions: viaDynamoDb(t),
});

const recordsRead = (t: GrantTargets): Permission[] => [
  { actions: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query'], resources: [t.recordsTableArn] },
  // Indexes can only be queried; GetItem does not apply to them.
  ...(t.recordsIndexArns.length ? [{ actions: ['dynamodb:Query'], resources: t.recordsIndexArns }] : []),
  keyRead(t),
];

/** The grant table. Typed by Grant, so a new grant in lib/routes.ts fails to compile until it has an entry. */
export const grantPermissions: { readonly [G in Grant]: (t: GrantTargets) => Permission[] } = {
  'records:read': recordsRead,
  'records:write': (t) => [
    ...recordsRead(t),
    {
      actions: ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:ConditionCheckItem'],
      resources: [t.recordsTableArn],
    },
    keyWrite(t),
  ],
  // Append-only (security rule 19): PutItem, never UpdateItem, DeleteItem or BatchWriteItem.
  // Handlers write audit entries with attribute_not_exists(pk) so a put cannot overwrite either.
  'audit:append': (t) => [{ actions: ['dynamodb:PutItem'], resources: [t.auditTableArn] }, keyWrite(t)],
  'audit:read': (t) => [{ actions: ['dynamodb:GetItem', 'dynamodb:Query'], resources: [t.auditTableArn] }, keyRead(t)],
  'staffPool:read': (t) => [{ actions: ['cognito-idp:AdminGetUser'], resources: [t.staffPoolArn] }],
  // Sign-in failure counters: only items whose partition key starts with THROTTLE#, so a
  // sign-in function can never read or change a portal record.
  'throttle:readwrite': (t) => [
    {
      actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
      resources: [t.recordsTableArn],
      conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': 'THROTTLE#*' } },
    },
    keyWrite(t),
  ],
};

/**
 * The merged permissions of a set of grants: permissions with the same resources and conditions
 * become one, with the union of their actions (sorted, so templates are stable).
 */
export function permissionsFor(grants: readonly Grant[], targets: GrantTargets): Permission[] {
  const merged = new Map<string, { actions: Set<string>; resources: readonly string[]; conditions?: Permission['conditions'] }>();
  for (const grant of grants) {
    for (const p of grantPermissions[grant](targets)) {
      const key = JSON.stringify([p.resources, p.conditions ?? null]);
      const entry = merged.get(key);
      if (entry) p.actions.forEach((a) => entry.actions.add(a));
      else merged.set(key, { actions: new Set(p.actions), resources: p.resources, conditions: p.conditions });
    }
  }
  return [...merged.values()].map((m) => ({
    actions: [...m.actions].sort(),
    resources: m.resources,
    ...(m.conditions ? { conditions: m.conditions } : {}),
  }));
}

export function statementsFor(grants: readonly Grant[], targets: GrantTargets): PolicyStatement[] {
  return permissionsFor(grants, targets).map(
    (p) =>
      new PolicyStatement({
        actions: [...p.actions],
        resources: [...p.resources],
        ...(p.conditions ? { conditions: p.conditions as Record<string, unknown> } : {}),
      }),
  );
}
