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
  /** The key that seals invitation PINs (lib/stack/pin-key.ts). */
  readonly pinKeyArn: string;
  /** The sender address: mail:send may send from it only. */
  readonly senderEmail: string;
  /** Phone codes (issue 17), only where the deployment has SMS: the HMAC key of the codes and the origination identity's ARN. */
  readonly phoneCodeKeyArn?: string;
  /** The HMAC key lobby password hashes are keyed from (lib/stack/lobby-key.ts; the stack always has one). */
  readonly lobbyKeyArn?: string;
  readonly smsOriginationArn?: string;
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

/** Only items whose partition key matches `pattern` (IAM can narrow DynamoDB by partition key only). */
const leadingKeys = (pattern: string | readonly string[]) => ({ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': pattern } });

const pinContext = { StringEquals: { 'kms:EncryptionContext:purpose': 'invitation-pin' } };

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
  // GET /staff reads the pool; it must not hold staffPool:admin's create, disable and set-password.
  'staffPool:list': (t) => [
    {
      actions: ['cognito-idp:AdminGetUser', 'cognito-idp:AdminListGroupsForUser', 'cognito-idp:ListUsers', 'cognito-idp:ListUsersInGroup'],
      resources: [t.staffPoolArn],
    },
  ],
  // Rule 34: the staff app client has a secret that is in neither the template nor any function's
  // configuration; the sign-in functions read it from Cognito at cold start.
  'staffPool:signIn': (t) => [{ actions: ['cognito-idp:DescribeUserPoolClient'], resources: [t.staffPoolArn] }],
  // Staff administration by admins (POST /staff, PUT /staff/{staffId}, mfa-reset, GET /staff).
  'staffPool:admin': (t) => [
    {
      actions: [
        'cognito-idp:AdminAddUserToGroup',
        'cognito-idp:AdminCreateUser',
        'cognito-idp:AdminDeleteSoftwareToken',
        'cognito-idp:AdminDisableUser',
        'cognito-idp:AdminEnableUser',
        'cognito-idp:AdminGetUser',
        'cognito-idp:AdminListGroupsForUser',
        'cognito-idp:AdminRemoveUserFromGroup',
        'cognito-idp:AdminSetUserMFAPreference',
        // A retried POST /staff whose first attempt made the login but not its record: a new temporary password.
        'cognito-idp:AdminSetUserPassword',
        'cognito-idp:AdminUserGlobalSignOut',
        'cognito-idp:ListUsers',
        'cognito-idp:ListUsersInGroup',
      ],
      resources: [t.staffPoolArn],
    },
  ],
  // Rule 34: patients sign in through the server-side flow only (the app client allows nothing else).
  'patientPool:signIn': (t) => [{ actions: ['cognito-idp:AdminInitiateAuth'], resources: [t.patientPoolArn] }],
  // Every staff token is checked against its staff record (enabled, sessions not ended): that item only.
  'staff:session': (t) => [
    { actions: ['dynamodb:GetItem'], resources: [t.recordsTableArn], conditions: leadingKeys('STAFF#*') },
    keyRead(t),
  ],
  // Sign-in failure counters: only items whose partition key starts with THROTTLE#, so a
  // sign-in function can never read or change a portal record.
  'throttle:readwrite': (t) => [
    {
      // BatchGetItem: the account and address counters in one read (issue 16).
      actions: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
      resources: [t.recordsTableArn],
      conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': 'THROTTLE#*' } },
    },
    keyWrite(t),
  ],
  'challenge:write': (t) => [
    {
      actions: ['dynamodb:PutItem'],
      resources: [t.recordsTableArn],
      conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': 'CHALLENGE#*' } },
    },
    keyWrite(t),
  ],
  'patientPool:admin': (t) => [
    {
      actions: [
        'cognito-idp:AdminCreateUser',
        'cognito-idp:AdminDeleteUser',
        'cognito-idp:AdminDisableUser',
        'cognito-idp:AdminEnableUser',
        'cognito-idp:AdminSetUserPassword',
        'cognito-idp:AdminUserGlobalSignOut',
      ],
      resources: [t.patientPoolArn],
    },
  ],
  // Registration (lambdas/domain/registration.ts; public routes registration-create and
  // email-match-confirm) creates the login and sets its password. Never AdminDeleteUser (rule
  // 34): a public function must not be able to delete any patient's login. The undo after a
  // definite failure then leaves the login in place, which is harmless: nothing names its
  // accountId but the dead invitation, a retry on the same invitation reuses it, and no app
  // client lets anyone sign in to it directly.
  'patientPool:register': (t) => [
    {
      actions: ['cognito-idp:AdminCreateUser', 'cognito-idp:AdminSetUserPassword'],
      resources: [t.patientPoolArn],
    },
  ],
  // Invitation PINs (rule 10): sealing and opening are separate grants, and both only for the
  // encryption context the PinVault uses (lambdas/adapters/pin-vault.ts).
  'pinKey:encrypt': (t) => [{ actions: ['kms:Encrypt'], resources: [t.pinKeyArn], conditions: pinContext }],
  'pinKey:decrypt': (t) => [{ actions: ['kms:Decrypt'], resources: [t.pinKeyArn], conditions: pinContext }],
  // SES v1 SendEmail authorizes against the identity and the configuration set; only from our sender.
  'mail:send': (t) => [
    {
      actions: ['ses:SendEmail'],
      resources: [t.emailIdentityArn, t.configurationSetArn],
      conditions: { StringEquals: { 'ses:FromAddress': t.senderEmail } },
    },
  ],
  // Credential resets (lambdas/adapters/dynamo-resets.ts): asking for one reads and writes the
  // reset and its link only, never a portal record (rule 8). Confirming needs records:write anyway.
  'reset:issue': (t) => [
    {
      actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem'],
      resources: [t.recordsTableArn],
      conditions: leadingKeys(['RESET#*', 'RESETLINK#*']),
    },
    keyWrite(t),
  ],
  // A reset sets the new password and ends every refresh token; it never creates, deletes or
  // enables a login. Also the grant of a patient's own password change (patient-new-password,
  // account-credentials), which need nothing more.
  'patientPool:reset': (t) => [
    { actions: ['cognito-idp:AdminSetUserPassword', 'cognito-idp:AdminUserGlobalSignOut'], resources: [t.patientPoolArn] },
  ],
  // Lobby mode (lambdas/adapters/dynamo-lobby.ts): lobby passwords under LOBBY#<patientId>,
  // lobby sessions under LOBBYSESSION#<token hash>. Only those items: a lobby function can
  // never write a portal record. Staff issuing a password only put it (replacing the old one).
  'lobby:issue': (t) => [
    { actions: ['dynamodb:PutItem'], resources: [t.recordsTableArn], conditions: leadingKeys('LOBBY#*') },
    keyWrite(t),
  ],
  // Sign-in reads and consumes the password and creates the session, in one transaction.
  'lobby:redeem': (t) => [
    { actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'], resources: [t.recordsTableArn], conditions: leadingKeys('LOBBY#*') },
    { actions: ['dynamodb:PutItem'], resources: [t.recordsTableArn], conditions: leadingKeys('LOBBYSESSION#*') },
    keyWrite(t),
  ],
  // Checking a lobby token (lambdas/http/lobby-auth.ts): the session it names and the portal
  // record of that session (access enabled, not revoked). No index, no other items: every
  // lobby route needs it, and a lobby route needs nothing wider to check its caller.
  'lobby:session': (t) => [
    { actions: ['dynamodb:GetItem'], resources: [t.recordsTableArn], conditions: leadingKeys(['LOBBYSESSION#*', 'PATIENT#*']) },
    keyRead(t),
  ],
  // Ending a lobby session (the kiosk's End), or replacing it on a retried sign-in: delete it.
  'lobby:end': (t) => [
    { actions: ['dynamodb:DeleteItem'], resources: [t.recordsTableArn], conditions: leadingKeys('LOBBYSESSION#*') },
    keyWrite(t),
  ],
  // The email-match request (lambdas/adapters/dynamo-email-match.ts) is public: it puts the
  // record's email-match state and its link and deletes the link it replaces, and nothing
  // else, so it can never write a portal record, a username or an invitation.
  'emailMatch:issue': (t) => [
    { actions: ['dynamodb:PutItem', 'dynamodb:DeleteItem'], resources: [t.recordsTableArn], conditions: leadingKeys(['EMAILMATCH#*', 'EMAILMATCHLINK#*']) },
    keyWrite(t),
  ],
  // Self-registration (lambdas/adapters/dynamo-self-registrations.ts): the requests, their staff
  // list entries, the one-open-request-per-address items and the email links, all under SELFREG*.
  // The public routes get nothing else that writes, so they can never touch a portal record.
  'selfRegistration:write': (t) => [
    { actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem'], resources: [t.recordsTableArn], conditions: leadingKeys('SELFREG*') },
    keyWrite(t),
  ],
  'selfRegistration:read': (t) => [
    { actions: ['dynamodb:GetItem', 'dynamodb:Query'], resources: [t.recordsTableArn], conditions: leadingKeys('SELFREG*') },
    keyRead(t),
  ],
  // Phone codes (issue 17): the texting function updates the invitation's link state only (its
  // code's keyed hash and send times), never a portal record.
  'phoneCode:claim': (t) => [
    { actions: ['dynamodb:UpdateItem'], resources: [t.recordsTableArn], conditions: leadingKeys('INVITE#*') },
    keyWrite(t),
  ],
  // Without SMS in the deployment there is no key and no identity: the grant gives nothing.
  'phoneCodeKey:mac': (t) => (t.phoneCodeKeyArn ? [{ actions: ['kms:GenerateMac'], resources: [t.phoneCodeKeyArn] }] : []),
  // Lobby passwords (issue 16): the key of their hash is GenerateMac of a fixed label, that key only.
  'lobbyKey:mac': (t) => (t.lobbyKeyArn ? [{ actions: ['kms:GenerateMac'], resources: [t.lobbyKeyArn] }] : []),
  'sms:send': (t) => (t.smsOriginationArn ? [{ actions: ['sms-voice:SendTextMessage'], resources: [t.smsOriginationArn] }] : []),
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

/**
 * The pre-token-generation trigger (rule 17, lambdas/triggers/pre-token-generation.ts): it reads a
 * login's ACCOUNT# link and that PATIENT# record to put the record's generation in the token, and
 * nothing else (no lobby, throttle or challenge item, no write).
 */
export function tokenTriggerStatements(t: GrantTargets): PolicyStatement[] {
  const permissions: Permission[] = [
    { actions: ['dynamodb:GetItem'], resources: [t.recordsTableArn], conditions: leadingKeys(['ACCOUNT#*', 'PATIENT#*']) },
    keyRead(t),
  ];
  return permissions.map((p) => new PolicyStatement({ actions: [...p.actions], resources: [...p.resources], ...(p.conditions ? { conditions: p.conditions as Record<string, unknown> } : {}) }));
}
