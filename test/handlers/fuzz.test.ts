/**
 * Security rule 23, property-based: every route of the route table (iterated, so routes added
 * later are fuzzed too) gets FUZZ_RUNS (default 1,000; `npm run fuzz`: 100,000) random and
 * hostile requests: bodies (wrong types, extra and prototype-pollution fields, huge strings, deep
 * nesting, unicode, non-JSON, a valid body mutated), path parameters, query strings, headers
 * (tokens of every kind, content types, If-Match junk) and methods. The property:
 *   - the answer is 2xx or 4xx, never 5xx;
 *   - every 4xx is problem+json whose status is the HTTP status (page routes may answer a 404 page);
 *   - no body carries a stack trace or an internal name;
 *   - a rejected (4xx) request leaves the records unchanged (only throttle and failure counters
 *     move) and writes no audit entry that says "success".
 * Handlers run in-process against an in-memory DynamoDB that evaluates our condition and update
 * expressions (test/support/memory-dynamo.ts), and fakes of Cognito, SES and KMS. The state each
 * request starts from is made once by the handlers themselves (settings, permissions, records, a
 * pending invitation, a registered patient, a reset, an email-match link, lobby passwords and a
 * lobby session) and restored before every request, so a counterexample replays on its own.
 * FUZZ_SEED=<n> replays a run; FUZZ_REPORT=1 prints each route's answers by status.
 */
import { CognitoIdentityProviderClient, AdminCreateUserCommand, AdminDeleteUserCommand, AdminGetUserCommand, AdminSetUserPasswordCommand, InitiateAuthCommand, AdminInitiateAuthCommand, DescribeUserPoolClientCommand } from '@aws-sdk/client-cognito-identity-provider';
import { DecryptCommand, EncryptCommand, KMSClient } from '@aws-sdk/client-kms';
import { SendEmailCommand, SESClient } from '@aws-sdk/client-ses';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { resetConfigForTests } from '../../lambdas/config.ts';
import { routes, type Route } from '../../lib/routes.ts';
import { lambdaContext } from '../support/events.ts';
import { memoryDynamo, type Item, type MemoryDynamo, type Tables } from '../support/memory-dynamo.ts';
import { adminToken, otherKey, serveJwks, staffToken } from '../support/tokens.ts';
import { enabledStaffRecord } from '../support/staff-records.ts';

// scrypt at its production cost (tens of ms) would make 1,000 requests per route take minutes;
// the property is about answers, not hash cost, so the fuzz run hashes at a trivial cost. Hashing
// and checking both go through this, so they still agree.
vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:crypto')>();
  const scrypt = (password: unknown, salt: unknown, keylen: number, ...rest: unknown[]) => {
    const callback = rest[rest.length - 1] as (err: Error | null, key: Buffer) => void;
    actual.scrypt(password as string, salt as Buffer, keylen, { N: 16, r: 1, p: 1 }, callback);
  };
  return { ...actual, scrypt, default: { ...actual, scrypt } };
});

const RUNS = Number(process.env.FUZZ_RUNS ?? 1000);

process.env.PIN_KEY_ID = 'arn:aws:kms:us-east-1:111122223333:key/pin-fuzz';
process.env.PRACTICE_NAME = 'Fuzz Practice';
resetConfigForTests();

const kms = mockClient(KMSClient);
const ses = mockClient(SESClient);
const idp = mockClient(CognitoIdentityProviderClient);

type Handler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

// ------------------------------------------------------------------------------ backends

let dynamo: MemoryDynamo;
const sentEmails: string[] = [];
/** Logins by pool and Cognito username, with their passwords (undefined: none set yet). */
const logins = new Map<string, string | undefined>();
const staffPool = () => process.env.STAFF_POOL_ID!;
const patientPool = () => process.env.PATIENT_POOL_ID!;
const refusal = (name: string) => Object.assign(new Error('refused'), { name });

function fakeBackends(): void {
  dynamo = memoryDynamo();
  DynamoDBDocumentClient.prototype.send = ((command: { input: unknown }) => dynamo.send(command)) as never;
  kms.on(EncryptCommand).callsFake((input) => ({
    CiphertextBlob: Buffer.from(`enc:${JSON.stringify(input.EncryptionContext)}:${Buffer.from(input.Plaintext).toString()}`),
  }));
  kms.on(DecryptCommand).callsFake((input) => {
    const m = /^enc:(\{.*\}):(.*)$/s.exec(Buffer.from(input.CiphertextBlob).toString());
    if (!m || m[1] !== JSON.stringify(input.EncryptionContext)) throw refusal('InvalidCiphertextException');
    return { Plaintext: Buffer.from(m[2]!) };
  });
  ses.on(SendEmailCommand).callsFake((input) => {
    sentEmails.push(String(input.Message?.Body?.Text?.Data ?? ''));
    return { MessageId: `m-${sentEmails.length}` };
  });
  idp.onAnyCommand().resolves({});
  idp.on(AdminCreateUserCommand).callsFake((input) => {
    const key = `${input.UserPoolId}|${input.Username}`;
    if (logins.has(key)) throw refusal('UsernameExistsException');
    logins.set(key, undefined);
    return { User: { Username: input.Username, Attributes: [{ Name: 'sub', Value: `sub-${input.Username}` }] } };
  });
  idp.on(AdminSetUserPasswordCommand).callsFake((input) => {
    logins.set(`${input.UserPoolId}|${input.Username}`, input.Password);
    return {};
  });
  idp.on(AdminDeleteUserCommand).callsFake((input) => {
    logins.delete(`${input.UserPoolId}|${input.Username}`);
    return {};
  });
  idp.on(AdminGetUserCommand).callsFake((input) => {
    if (!logins.has(`${input.UserPoolId}|${input.Username}`)) throw refusal('UserNotFoundException');
    return { Username: input.Username, UserAttributes: [{ Name: 'sub', Value: `sub-${input.Username}` }] };
  });
  idp.on(DescribeUserPoolClientCommand).resolves({ UserPoolClient: { ClientSecret: 'the staff client secret' } });
  idp.on(AdminInitiateAuthCommand).callsFake((input) => signInFake(input));
  idp.on(InitiateAuthCommand).callsFake((input) => signInFake(input));
  function signInFake(input: { ClientId?: string; AuthParameters?: Record<string, string> }) {
    const staff = input.ClientId === process.env.STAFF_CLIENT_ID;
    const pool = staff ? staffPool() : patientPool();
    const username = input.AuthParameters?.USERNAME ?? '';
    const password = logins.get(`${pool}|${username}`);
    if (password === undefined || password !== input.AuthParameters?.PASSWORD) throw refusal('NotAuthorizedException');
    const accessToken = staff
      ? staffToken({ username, groups: username === 'boss' ? ['admin'] : ['staff'] })
      : staffToken({ pool, clientId: process.env.PATIENT_CLIENT_ID, username, groups: [] });
    return { AuthenticationResult: { AccessToken: accessToken, IdToken: 'id-token', RefreshToken: 'refresh-token', ExpiresIn: 3600 } };
  }
}

// ------------------------------------------------------------------------------ handlers

const handlers = new Map<string, Handler>();

async function send(id: string, event: Partial<APIGatewayProxyEvent>): Promise<{ status: number; json: any }> {
  const res = await handlers.get(id)!(requestEvent(event), lambdaContext());
  return { status: res.statusCode, json: res.body ? JSON.parse(res.body) : undefined };
}

function requestEvent(e: Partial<APIGatewayProxyEvent>): APIGatewayProxyEvent {
  return {
    httpMethod: 'GET',
    resource: '/',
    path: '/',
    headers: {},
    multiValueHeaders: {},
    pathParameters: null,
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    stageVariables: null,
    body: null,
    isBase64Encoded: false,
    requestContext: { requestId: `fuzz-${Math.random().toString(36).slice(2)}`, identity: { sourceIp: '203.0.113.77' } } as APIGatewayProxyEvent['requestContext'],
    ...e,
  };
}

const json = (body: unknown, token?: string) => ({
  headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
  body: JSON.stringify(body),
});
const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });
const lastEmailToken = () => /#token=([A-Za-z0-9_%-]+)/.exec(sentEmails[sentEmails.length - 1] ?? '')?.[1] ?? '';

// ------------------------------------------------------------------------------ the state every request starts from

/** Secrets and ids the seeding produced: what valid-ish requests are made of. */
const known = {
  staffPassword: 'front desk staff password long enough',
  adminPassword: 'practice admin password long enough',
  patientPassword: 'correct horse battery staple seventeen',
  registeredUsername: 'pat.three',
  registeredAccountId: '',
  temporaryUsername: '',
  temporaryPassword: '',
  invitationToken: '',
  invitationPin: '',
  resetToken: '',
  resetPin: '',
  emailMatchToken: '',
  selfRegistrationToken: '',
  selfRegistrationId: '',
  lobbyPassword: '',
  lobbyToken: '',
  challengeSession: '',
  patientToken: '',
};
let seed: Tables;
let seedLogins: Map<string, string | undefined>;

async function seedState(): Promise<void> {
  const admin = adminToken({ username: 'boss' });
  const staff = staffToken({ username: 'frontdesk' });
  logins.set(`${staffPool()}|frontdesk`, known.staffPassword);
  logins.set(`${staffPool()}|boss`, known.adminPassword);
  // Their staff records (rule 30), as POST /staff or the local stack's seeding makes them.
  for (const [name, role] of [['frontdesk', 'staff'], ['boss', 'admin']] as const) {
    const record = enabledStaffRecord(`sub-${name}`, { roles: [role] });
    dynamo.table(process.env.RECORDS_TABLE!).set(`STAFF#${record.sub}|STAFF`, { ...record, pk: `STAFF#${record.sub}`, sk: 'STAFF' });
  }
  const ok = async (id: string, event: Partial<APIGatewayProxyEvent>, status: number) => {
    const res = await send(id, event);
    expect(res.status, `seeding ${id}: ${JSON.stringify(res.json)}`).toBe(status);
    return res.json;
  };
  const patient = (id: string) => ({ pathParameters: { patientId: id } });

  await ok('settings-put', { httpMethod: 'PUT', ...json({ selfRegistration: true, autoInvite: true, patientReset: true }, admin) }, 200);
  await ok('staff-permissions-put', { httpMethod: 'PUT', pathParameters: { staffId: 'frontdesk' }, ...json({ canInvite: true, autoInvite: true }, admin) }, 200);
  // P-1: enrolled, with a case number for lobby mode; a used lobby password (its session) and a fresh one.
  await ok('portal-record-put', { httpMethod: 'PUT', ...patient('P-1'), ...json({ email: 'one@example.test', phone: '+15555550101', masterCase: 'MC-1', cases: ['C-1'] }, staff) }, 200);
  const firstLobby = await ok('lobby-password-create', { httpMethod: 'POST', ...patient('P-1'), ...bearer(staff) }, 201);
  known.lobbyToken = (await ok('lobby-sign-in', { httpMethod: 'POST', ...json({ masterCase: 'MC-1', lobbyPassword: firstLobby.lobbyPassword }) }, 200)).lobbyToken;
  known.lobbyPassword = (await ok('lobby-password-create', { httpMethod: 'POST', ...patient('P-1'), ...bearer(staff) }, 201)).lobbyPassword;
  // P-2: registered by staff with a temporary password, and signed in once: a new-password session is pending.
  await ok('portal-record-put', { httpMethod: 'PUT', ...patient('P-2'), ...json({ email: 'two@example.test', cases: ['C-2'] }, staff) }, 200);
  const temporary = await ok('register-patient', { httpMethod: 'POST', ...patient('P-2'), ...bearer(staff) }, 201);
  known.temporaryUsername = temporary.username;
  known.temporaryPassword = temporary.temporaryPassword;
  known.challengeSession = (await ok('patient-sign-in', { httpMethod: 'POST', ...json({ username: temporary.username, password: temporary.temporaryPassword }) }, 200)).session;
  // P-3: invited and registered through the link; then a reset is pending for it.
  await ok('portal-record-put', { httpMethod: 'PUT', ...patient('P-3'), ...json({ email: 'three@example.test', cases: ['C-3'] }, staff) }, 200);
  const invited = await ok('invitation-create', { httpMethod: 'POST', ...patient('P-3'), ...bearer(staff) }, 201);
  const registered = await ok(
    'registration-create',
    { httpMethod: 'POST', ...json({ token: lastEmailToken(), pin: invited.pin, username: known.registeredUsername, password: known.patientPassword }) },
    201,
  );
  known.registeredAccountId = registered.accountId;
  await ok('staff-reset', { httpMethod: 'POST', ...patient('P-3'), ...bearer(staff) }, 202);
  known.resetToken = lastEmailToken();
  known.resetPin = /\b([2-9A-HJKMNP-Z]{6})\b/.exec(sentEmails[sentEmails.length - 1] ?? '')?.[1] ?? '';
  // P-4: a pending invitation.
  await ok('portal-record-put', { httpMethod: 'PUT', ...patient('P-4'), ...json({ email: 'four@example.test', cases: ['C-4'] }, staff) }, 200);
  known.invitationPin = (await ok('invitation-create', { httpMethod: 'POST', ...patient('P-4'), ...bearer(staff) }, 201)).pin;
  known.invitationToken = lastEmailToken();
  // P-5: an email-match link is out.
  await ok('portal-record-put', { httpMethod: 'PUT', ...patient('P-5'), ...json({ email: 'five@example.test' }, staff) }, 200);
  await ok('email-match-request', { httpMethod: 'POST', ...json({ email: 'five@example.test' }) }, 202);
  known.emailMatchToken = lastEmailToken();
  // Self-registration (issue 19): one request waits for approval (seven@), one link is out (six@).
  await ok('self-registration-request', { httpMethod: 'POST', ...json(selfForm('seven@example.test')) }, 202);
  await ok('self-registration-verify', { httpMethod: 'POST', ...json({ token: lastEmailToken() }) }, 200);
  known.selfRegistrationId = (await ok('self-registration-list', bearer(staff), 200)).items[0].requestId;
  await ok('self-registration-request', { httpMethod: 'POST', ...json(selfForm('six@example.test')) }, 202);
  known.selfRegistrationToken = lastEmailToken();

  // The token carries its record's generation, as the pre-token-generation trigger puts it (rule 17).
  const p3 = dynamo.table(process.env.RECORDS_TABLE!).get('PATIENT#P-3|RECORD') as { linkGeneration?: number } | undefined;
  known.patientToken = staffToken({ pool: patientPool(), clientId: process.env.PATIENT_CLIENT_ID, username: known.registeredAccountId, groups: [], claims: { portal_generation: p3?.linkGeneration ?? 0 } });
  await ok('account-get', bearer(known.patientToken), 200);
  await ok('lobby-session-current', bearer(known.lobbyToken), 200);
  for (const [name, value] of Object.entries(known)) expect(value, `seeded ${name}`).not.toBe('');
  seed = dynamo.snapshot();
  seedLogins = new Map(logins);
}

// ------------------------------------------------------------------------------ generators

const hostileStrings = [
  '', ' ', '\u0000', '\uD800', '\uFEFF', '\u202E', 'null', 'undefined', 'NaN', '-1', '0', '1e309', '[]', '{}',
  '../../etc/passwd', '..%2F..%2Fetc%2Fpasswd', '%00', '%', '%E0%A4%A', '<script>alert(1)</script>', "' OR '1'='1",
  '${jndi:ldap://x}', '__proto__', 'constructor', 'prototype', 'PATIENT#P-1', 'THROTTLE#x', 'P-1\nP-2', 'é', '🙂'.repeat(40),
  'a'.repeat(65), 'a'.repeat(513), 'a'.repeat(5000),
];

const hostileString = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...hostileStrings) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 24 }) },
  { weight: 1, arbitrary: fc.string({ maxLength: 24 }) },
  { weight: 1, arbitrary: fc.nat({ max: 20_000 }).map((n) => 'x'.repeat(n)) },
);

/** Any JSON value, nested deep, with hostile strings and keys. */
const hostileValue: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom(null, true, false, 0, -1, 1.5, 2 ** 53, -(2 ** 63), 1e308),
    hostileString,
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(fc.oneof(hostileString, fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty')), tie('value'), { maxKeys: 3 }),
  ),
})).value;

const deepNesting = fc.integer({ min: 100, max: 5000 }).chain((depth) =>
  fc.constantFrom('[', '{"a":').map((open) => `${open.repeat(depth)}1${(open === '[' ? ']' : '}').repeat(depth)}`),
);

const nonJson = fc.oneof(
  fc.constantFrom('{', '{"a":', '}', 'undefined', "{'a':1}", '{"a":1,}', 'email=a@b.c&pin=123456', '<xml/>', '\u0000\u0001', 'NaN', '1 2', '"unterminated'),
  fc.string({ unit: 'binary', maxLength: 60 }),
);

const selfForm = (email: string) => ({ firstName: 'Sam', lastName: 'Seven', dateOfBirth: '1990-01-01', email });

/** A valid-ish body for each route, from the seeded state (a route without one still gets every other body). */
function validBodies(route: Route): unknown[] {
  const k = known;
  const pw = 'another perfectly long passphrase here';
  const bodies: Record<string, unknown[]> = {
    'staff-sign-in': [{ username: 'frontdesk', password: k.staffPassword }, { username: 'boss', password: 'wrong password here' }],
    'staff-sign-in-challenge': [
      { session: 'A'.repeat(64), challenge: 'SOFTWARE_TOKEN_MFA', code: '123456' },
      { session: 'B'.repeat(64), challenge: 'MFA_SETUP' },
      { session: 'C'.repeat(64), challenge: 'NEW_PASSWORD_REQUIRED', newPassword: pw },
    ],
    'portal-record-put': [{ email: 'new@example.test', phone: '+15555550199', masterCase: 'MC-9', accessEnabled: true, cases: ['C-1', 'C-2'], comment: 'note' }, { accessEnabled: false }, { comment: null }],
    'settings-put': [{ invitationDays: 7, temporaryPasswordHours: 24, lobbyMinutes: 30, resetMinutes: 30, selfRegistration: false, patientReset: false, autoInvite: false, practiceName: 'X', portalUrl: 'https://portal.example.test' }],
    'staff-permissions-put': [{ canInvite: false, autoInvite: true }],
    'staff-create': [{ username: 'new.staff', email: 'new.staff@example.test', role: 'staff' }, { username: 'FrontDesk', email: 'fd@example.test', role: 'admin' }],
    'staff-update': [{ enabled: true }, { role: 'admin' }, { enabled: false, role: 'staff' }],
    'registration-create': [{ token: k.invitationToken, pin: k.invitationPin, username: 'pat.four', password: pw }, { token: k.invitationToken, pin: 'ZZZZZZ', username: 'pat.four', password: pw }],
    'lobby-sign-in': [{ masterCase: 'MC-1', lobbyPassword: k.lobbyPassword }, { masterCase: 'P-1', lobbyPassword: 'AAAAA-BBBBB' }],
    'patient-sign-in': [{ username: k.registeredUsername, password: k.patientPassword }, { username: k.temporaryUsername, password: k.temporaryPassword }, { username: 'nobody', password: 'x' }],
    'patient-new-password': [{ session: k.challengeSession, newPassword: pw }, { session: k.challengeSession, newPassword: pw, newUsername: 'pat.two' }],
    'account-credentials': [{ currentPassword: k.patientPassword, newPassword: pw }, { currentPassword: k.patientPassword, newUsername: 'pat.renamed' }],
    'reset-request': [{ username: k.registeredUsername }, { username: 'nobody.here' }],
    'reset-confirm': [{ token: k.resetToken, pin: k.resetPin, username: k.registeredUsername, newPassword: pw }, { token: k.resetToken, pin: 'ZZZZZZ', username: k.registeredUsername, newPassword: pw }],
    'email-match-request': [{ email: 'five@example.test' }, { email: 'nobody@example.test' }],
    'email-match-confirm': [{ token: k.emailMatchToken, username: 'pat.five', password: pw }],
    'invitation-lookup': [{ token: k.invitationToken }, { token: k.resetToken }],
    'phone-code-request': [{ token: k.invitationToken }, { token: k.resetToken }],
    'note-signed': [{ patientId: 'P-1', signedBy: 'frontdesk' }, { patientId: 'P-9', signedBy: 'boss' }],
    'self-registration-request': [selfForm('eight@example.test'), { ...selfForm('six@example.test'), phone: '+15555550106' }],
    'self-registration-verify': [{ token: k.selfRegistrationToken }, { token: k.emailMatchToken }],
    'self-registration-approve': [{ patientId: 'P-NEW' }, { patientId: 'P-3' }],
    'self-registration-reject': [{ reason: 'not known here' }],
    'proxy-invite': [{ name: 'Pat Parent', email: 'parent@example.test', relationship: 'parent', scope: 'full' }, { name: 'Same', email: 'same@example.test', relationship: 'self', scope: 'limited' }],
    'account-proxy-invite': [{ name: 'Kim Carer', email: 'carer@example.test', relationship: 'carer', scope: 'limited' }],
  };
  return bodies[route.id] ?? (route.request.body ? [{}] : []);
}

function knownParams(name: string): string[] {
  const byName: Record<string, string[]> = {
    patientId: ['P-1', 'P-2', 'P-3', 'P-4', 'P-5', 'P-404'],
    staffId: ['frontdesk', 'boss', 'nobody'],
    page: ['register', 'verify', 'login', 'reset', 'lobby'],
    requestId: [known.selfRegistrationId, '00000000-0000-4000-8000-000000000000'],
  };
  return byName[name] ?? ['x'];
}

/** Puts one hostile change into a valid body: a field removed, retyped, added, or the whole replaced. */
const mutated = (body: unknown): fc.Arbitrary<unknown> => {
  if (body === null || typeof body !== 'object') return hostileValue;
  const keys = Object.keys(body);
  return fc.oneof(
    keys.length > 0 ? fc.constantFrom(...keys).map((k) => Object.fromEntries(Object.entries(body).filter(([key]) => key !== k))) : fc.constant(body),
    keys.length > 0 ? fc.tuple(fc.constantFrom(...keys), hostileValue).map(([k, v]) => ({ ...body, [k]: v })) : fc.constant(body),
    fc.tuple(fc.oneof(hostileString, fc.constantFrom('__proto__', 'constructor')), hostileValue).map(([k, v]) => {
      // Built from JSON so that "__proto__" is an own field, as a client would send it.
      const text = JSON.stringify(body).replace(/^\{/, `{${JSON.stringify(k)}:${JSON.stringify(v ?? null)}${keys.length > 0 ? ',' : ''}`);
      return { __raw: text };
    }),
    fc.constant([body]),
    fc.constant(JSON.stringify(body)),
  );
};

const asBodyText = (value: unknown): string => {
  if (value && typeof value === 'object' && '__raw' in value) return String((value as { __raw: string }).__raw);
  return JSON.stringify(value) ?? 'null';
};

function bodyArbitrary(route: Route): fc.Arbitrary<{ body: string | null; base64?: boolean }> {
  const valid = validBodies(route);
  const text = (a: fc.Arbitrary<unknown>) => a.map((v) => ({ body: asBodyText(v) }));
  const options: fc.WeightedArbitrary<{ body: string | null; base64?: boolean }>[] = [
    { weight: 1, arbitrary: fc.constant({ body: null }) },
    { weight: 2, arbitrary: text(hostileValue) },
    { weight: 1, arbitrary: nonJson.map((body) => ({ body })) },
    { weight: 1, arbitrary: deepNesting.map((body) => ({ body })) },
    { weight: 1, arbitrary: fc.tuple(fc.oneof(nonJson, text(hostileValue).map((b) => b.body!)), fc.boolean()).map(([b, asText]) => ({ body: asText ? b : Buffer.from(b).toString('base64'), base64: true })) },
  ];
  if (valid.length > 0) {
    options.push({ weight: 4, arbitrary: text(fc.constantFrom(...valid)) });
    options.push({ weight: 4, arbitrary: fc.constantFrom(...valid).chain(mutated).map((v) => ({ body: asBodyText(v) })) });
  }
  return fc.oneof(...options);
}

function paramsArbitrary(route: Route): fc.Arbitrary<Record<string, string> | null> {
  const names = [...route.path.matchAll(/\{(\w+)\+?\}/g)].map((m) => m[1]!);
  if (names.length === 0) {
    return fc.oneof({ weight: 5, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.dictionary(hostileString, hostileString, { maxKeys: 2 }) });
  }
  const value = (name: string) =>
    fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom(...knownParams(name)) },
      { weight: 3, arbitrary: hostileString },
      { weight: 1, arbitrary: fc.constantFrom(...knownParams(name)).map((v) => `${v}/../P-1`) },
      { weight: 1, arbitrary: fc.constantFrom(...knownParams(name)).map((v) => encodeURIComponent(`${v}/`)) },
    );
  return fc.oneof(
    { weight: 8, arbitrary: fc.record(Object.fromEntries(names.map((n) => [n, value(n)]))) as fc.Arbitrary<Record<string, string>> },
    { weight: 1, arbitrary: fc.constant(null) },
    { weight: 1, arbitrary: fc.record(Object.fromEntries(names.map((n) => [n, value(n)]))).map((p) => ({ ...p, extra: 'x' })) as fc.Arbitrary<Record<string, string>> },
  );
}

/** Paging cursors: base64url JSON, of the right keys or not, pointing anywhere. */
const cursorArbitrary = fc
  .record(
    {
      pk: fc.oneof(fc.constantFrom('PATIENT#P-1', 'SETTINGS', 'patient:P-1', 'THROTTLE#x', ''), hostileString),
      sk: fc.oneof(fc.constantFrom('RECORD', 'PRACTICE', '2026-01-01T00:00:00.000Z#x'), hostileString),
      listKey: fc.constantFrom('PATIENT', 'OTHER'),
      patientId: fc.oneof(fc.constant('P-1'), hostileString),
    },
    { requiredKeys: [] },
  )
  .map((key) => Buffer.from(JSON.stringify(key)).toString('base64url'));

const queryArbitrary = fc.oneof(
  { weight: 4, arbitrary: fc.constant(null) },
  { weight: 2, arbitrary: fc.record({ cursor: cursorArbitrary, limit: fc.constantFrom('1', '5') }, { requiredKeys: ['cursor'] }) },
  { weight: 2, arbitrary: fc.record({ query: fc.constantFrom('P', 'one@example.test', 'pat.three', 'mc-1'), limit: fc.constantFrom('1', '25', '100') }, { requiredKeys: [] }) },
  { weight: 2, arbitrary: fc.dictionary(fc.constantFrom('query', 'cursor', 'limit', 'token', '__proto__', 'x'), hostileString, { maxKeys: 3 }) },
  { weight: 1, arbitrary: fc.dictionary(hostileString, hostileString, { maxKeys: 3 }) },
);

/** Tokens are made once: signing one per request would cost more than the request. */
const tokens: Record<string, string> = {};

function makeTokens(): void {
  Object.assign(tokens, {
    staff: staffToken({ username: 'frontdesk' }),
    admin: adminToken({ username: 'boss' }),
    patient: known.patientToken,
    lobby: known.lobbyToken,
    expired: staffToken({ expiresInSeconds: -60 }),
    forged: adminToken({ signWith: otherKey }),
    'no-group': staffToken({ groups: [] }),
    'id-token': adminToken({ tokenUse: 'id' }),
    'patient-pool-staff-client': staffToken({ pool: patientPool(), clientId: process.env.STAFF_CLIENT_ID, username: known.registeredAccountId }),
    'lowercase-scheme': `bearer ${staffToken()}`,
  });
}

/** Mostly the kind of caller the route wants (so requests get past sign-in), then every other kind and junk. */
function authorizationArbitrary(route: Route): fc.Arbitrary<string | undefined> {
  const own = route.caller === 'admin' ? ['admin'] : route.caller === 'staff' ? ['staff', 'admin'] : route.caller === 'public' ? ['staff'] : [route.caller];
  return fc.oneof(
    { weight: 12, arbitrary: fc.constantFrom(...own).map((kind) => `Bearer ${tokens[kind]}`) },
    { weight: 2, arbitrary: fc.constant(undefined) },
    { weight: 2, arbitrary: fc.constantFrom(...Object.keys(tokens)).map((kind) => (kind === 'lowercase-scheme' ? tokens[kind]! : `Bearer ${tokens[kind]}`)) },
    { weight: 1, arbitrary: hostileString },
    { weight: 1, arbitrary: hostileString.map((s) => `Bearer ${s}`) },
    { weight: 1, arbitrary: fc.constantFrom('Bearer', 'Bearer ', 'Basic YWRtaW46YWRtaW4=', `Bearer  ${tokens.staff}`, 'Bearer a.b.c', 'Bearer eyJhbGciOiJub25lIn0.eyJ1c2VybmFtZSI6ImJvc3MifQ.') },
  );
}

function eventArbitrary(route: Route): fc.Arbitrary<APIGatewayProxyEvent> {
  return fc
    .record({
      method: fc.oneof({ weight: 9, arbitrary: fc.constant(route.method) }, { weight: 1, arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS', 'get', '') }),
      params: paramsArbitrary(route),
      query: queryArbitrary,
      authorization: authorizationArbitrary(route),
      authorizationName: fc.constantFrom('authorization', 'Authorization', 'AUTHORIZATION'),
      contentType: fc.oneof(
        { weight: 10, arbitrary: fc.constant('application/json') },
        { weight: 1, arbitrary: fc.constant(undefined) },
        { weight: 2, arbitrary: fc.constantFrom('application/json; charset=utf-8', 'application/problem+json', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/jsonx', 'APPLICATION/JSON', ';', '') },
        { weight: 1, arbitrary: hostileString },
      ),
      ifMatch: fc.option(fc.oneof(fc.constantFrom('1', '"1"', 'W/"2"', '*', '0', '99999999999999999', '-1', '1.5'), hostileString), { freq: 4 }),
      extraHeaders: fc.dictionary(fc.oneof(fc.constantFrom('x-forwarded-for', 'host', 'cookie', 'content-length', '__proto__'), hostileString), hostileString, { maxKeys: 2 }),
      body: bodyArbitrary(route),
    })
    .map((r) => {
      const headers: Record<string, string> = { ...r.extraHeaders };
      if (r.authorization !== undefined) headers[r.authorizationName] = r.authorization;
      if (r.contentType !== undefined) headers['content-type'] = r.contentType;
      if (r.ifMatch !== null) headers['If-Match'] = r.ifMatch;
      return requestEvent({
        httpMethod: r.method,
        resource: route.path,
        path: route.path,
        // API Gateway sends null, not {}, for a request without headers.
        headers: Object.keys(headers).length === 0 ? (null as never) : headers,
        pathParameters: r.params,
        queryStringParameters: r.query,
        body: r.body.body,
        isBase64Encoded: r.body.base64 ?? false,
      });
    });
}

// ------------------------------------------------------------------------------ the property

/** What a rejected request may still change: throttle counters, and failure counters and leases on the secret-holding items. */
const counterItems = /^(INVITE|RESET|EMAILMATCH|LOBBY)#/;
const counterFields = ['pinFailures', 'pinTries', 'failures', 'tries', 'version', 'lease', 'accountId', 'updatedAt'];

/** The keys of the records table whose items differ in what a rejected request must not change. */
function changedRecords(before: Tables, after: Tables): string[] {
  const was = before.get(process.env.RECORDS_TABLE!) ?? new Map<string, Item>();
  const now = after.get(process.env.RECORDS_TABLE!) ?? new Map<string, Item>();
  const view = (key: string, item: Item | undefined) => {
    if (!item || !counterItems.test(key)) return JSON.stringify(item);
    const rest: Item = { ...item };
    for (const f of counterFields) delete rest[f];
    return JSON.stringify(rest);
  };
  // The fake stores a fresh object on every write, so an unchanged item is the very same object.
  return [...new Set([...was.keys(), ...now.keys()])].filter(
    (key) => !key.startsWith('THROTTLE#') && was.get(key) !== now.get(key) && view(key, was.get(key)) !== view(key, now.get(key)),
  );
}

const auditItems = (tables: Tables) => [...(tables.get(process.env.AUDIT_TABLE!)?.values() ?? [])];

const stackTrace = /\n\s+at |^\s{4}at |\.ts:\d+|\.js:\d+|node_modules|file:\/\//m;
const internalName = /Exception|TypeError|ReferenceError|SyntaxError|lambdas\/|PATIENT#|THROTTLE#|RECORDS_TABLE|TableName|aws-sdk|middy|zod/g;

function headerOf(headers: APIGatewayProxyResult['headers'], name: string): string | undefined {
  for (const [k, v] of Object.entries(headers ?? {})) if (k.toLowerCase() === name) return String(v);
  return undefined;
}

/** Checks one answer; returns why it breaks rule 23, or undefined. */
function violation(route: Route, res: APIGatewayProxyResult, before: Tables, after: Tables, sent: () => string = () => ''): string | undefined {
  const status = res.statusCode;
  const body = res.body ?? '';
  if (!((status >= 200 && status < 300) || (status >= 400 && status < 500))) return `answered ${status}: ${body.slice(0, 300)}`;
  if (stackTrace.test(body)) return `a stack trace in the body: ${body.slice(0, 300)}`;
  if (!headerOf(res.headers, 'x-request-id')) return 'no x-request-id';
  if (status < 400) return undefined;
  const type = headerOf(res.headers, 'content-type') ?? '';
  const page = (route as { content?: string }).content !== undefined;
  if (page && status === 404 && type.startsWith('text/html')) {
    // A person's browser asked for a page that is not one: a 404 page, not a problem document.
  } else {
    if (!type.startsWith('application/problem+json')) return `a ${status} as ${type || 'no content type'}`;
    let problem: any;
    try {
      problem = JSON.parse(body);
    } catch {
      return `a ${status} whose body is not JSON: ${body.slice(0, 200)}`;
    }
    if (typeof problem?.type !== 'string' || typeof problem.title !== 'string' || problem.status !== status) {
      return `a ${status} that is not a valid problem: ${body.slice(0, 300)}`;
    }
    // A field name the client sent may come back in `errors`: only a name it did not send is ours.
    const leaked = [...body.matchAll(internalName)].map((m) => m[0]).filter((name) => !sent().includes(name));
    if (leaked.length > 0) return `an internal name (${leaked.join(', ')}) in a ${status}: ${body.slice(0, 300)}`;
  }
  const changed = changedRecords(before, after);
  if (changed.length > 0) return `a ${status} changed the records: ${changed.join(', ')}`;
  const was = before.get(process.env.AUDIT_TABLE!);
  const newAudit = auditItems(after).filter((a) => !was?.has(`${a.pk}|${a.sk}`));
  const claimed = newAudit.filter((a) => a.outcome !== 'failure');
  if (claimed.length > 0) return `a ${status} audited ${claimed.map((a) => `${a.action} as ${a.outcome}`).join(', ')}`;
  return undefined;
}

/** Everything the client sent, as text (a base64 body decoded too). */
const requestText = (event: APIGatewayProxyEvent) => () =>
  JSON.stringify(event) + (event.isBase64Encoded && event.body ? Buffer.from(event.body, 'base64').toString('utf8') : '');

/** One request from the seeded state: the answer and what it broke, if anything. */
async function fuzzOnce(route: Route, event: APIGatewayProxyEvent): Promise<{ status: number; problem?: string }> {
  dynamo.restore(seed);
  logins.clear();
  for (const [k, v] of seedLogins) logins.set(k, v);
  const before = dynamo.snapshot();
  let res: APIGatewayProxyResult;
  try {
    res = await handlers.get(route.id)!(event, lambdaContext());
  } catch (err) {
    return { status: 0, problem: `the handler threw ${(err as Error)?.name}` };
  }
  return { status: res.statusCode, problem: violation(route, res, before, dynamo.snapshot(), requestText(event)) };
}

// ------------------------------------------------------------------------------ setup

const realSetTimeout = globalThis.setTimeout;
const originalSend = Object.getOwnPropertyDescriptor(DynamoDBDocumentClient.prototype, 'send');

beforeAll(async () => {
  serveJwks();
  // The timing floors of reset and email-match requests (600 ms each) are rule 13's business,
  // tested elsewhere; here they would make 1,000 requests take ten minutes. Every wait is now.
  vi.stubGlobal('setTimeout', ((fn: (...a: unknown[]) => void, _ms?: number, ...args: unknown[]) => realSetTimeout(fn, 0, ...args)) as typeof setTimeout);
  fakeBackends();
  for (const route of routes) {
    const module = (await import(/* @vite-ignore */ `../../${route.entry}`)) as { handler: Handler };
    handlers.set(route.id, module.handler);
  }
  await seedState();
  makeTokens();
}, 60_000);

afterAll(() => {
  vi.unstubAllGlobals();
  if (originalSend) Object.defineProperty(DynamoDBDocumentClient.prototype, 'send', originalSend);
  else delete (DynamoDBDocumentClient.prototype as { send?: unknown }).send;
  kms.reset();
  ses.reset();
  idp.reset();
});

// ------------------------------------------------------------------------------ tests

describe('rule 23: every route answers random and hostile requests with 2xx or 4xx and valid problem+json', () => {
  it.each(routes.map((r) => [`${r.method} ${r.path}`, r] as const))(
    `rule 23: %s — ${RUNS} hostile requests, never 5xx, problems valid, records unchanged on rejection`,
    async (_name, route) => {
      const statuses = new Map<number, number>();
      await fc.assert(
        fc.asyncProperty(eventArbitrary(route), async (event) => {
          const { status, problem } = await fuzzOnce(route, event);
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
          if (problem) throw new Error(problem);
        }),
        { numRuns: RUNS, ...(process.env.FUZZ_SEED ? { seed: Number(process.env.FUZZ_SEED) } : {}) },
      );
      if (process.env.FUZZ_REPORT) console.log(`${route.method} ${route.path}: ${JSON.stringify(Object.fromEntries([...statuses].sort()))}`);
      // The requests got past parsing and sign-in often enough to exercise the route itself. The
      // challenge route's every answer without a live sealed session is its one 401 (a fuzzer cannot
      // forge AES-GCM): there, reaching the route means answering that 401, not a 400.
      const passed = route.id === 'staff-sign-in-challenge' ? [400, 403, 413, 415] : [400, 401, 403, 413, 415];
      const reached = [...statuses].filter(([s]) => !passed.includes(s)).reduce((n, [, c]) => n + c, 0);
      expect(reached, `answers: ${JSON.stringify(Object.fromEntries(statuses))}`).toBeGreaterThan(RUNS / 50);
    },
    Math.max(120_000, RUNS * 40),
  );

  it('rule 23: the check itself catches a 500, a stack trace, a bare 4xx, a wrong problem status and a changed record', () => {
    const route = routes.find((r) => r.id === 'portal-record-put')!;
    const problem = (status: number, over: object = {}) => ({
      statusCode: status,
      headers: { 'content-type': 'application/problem+json', 'x-request-id': 'r' },
      body: JSON.stringify({ type: '/problems/x', title: 'X', status, ...over }),
    });
    const same = dynamo.snapshot();
    expect(violation(route, problem(400), same, same)).toBeUndefined();
    expect(violation(route, problem(500), same, same)).toMatch(/answered 500/);
    expect(violation(route, problem(400, { detail: 'TypeError: x\n    at run (lambdas/domain/x.ts:3:9)' }), same, same)).toMatch(/stack trace/);
    expect(violation(route, { ...problem(404), headers: { 'content-type': 'application/json', 'x-request-id': 'r' } }, same, same)).toMatch(/404 as application\/json/);
    expect(violation(route, problem(409, { status: 400 }), same, same)).toMatch(/not a valid problem/);
    const changed = dynamo.snapshot();
    const records = changed.get(process.env.RECORDS_TABLE!)!;
    records.set('PATIENT#P-1|RECORD', { ...records.get('PATIENT#P-1|RECORD'), email: 'changed@example.test' });
    expect(violation(route, problem(400), same, changed)).toMatch(/changed the records: PATIENT#P-1\|RECORD/);
  });
});
