/** Typed helpers over the local stack started by the global setup. */
import { inject } from 'vitest';
import { CognitoIdentityProviderClient, InitiateAuthCommand, RespondToAuthChallengeCommand } from '@aws-sdk/client-cognito-identity-provider';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { StackInfo } from '../../../lib/local/stack.ts';
import { captureHandlerLogs, recordSecrets, secretsIn, secretsInEmail, secretsInUrl, type Secret } from './log-hygiene.ts';

export type { StackInfo };

export const stack = (): StackInfo => inject('stack');

// Rule 20 (global-setup.ts checks it at the end of the run): every secret a test sends or gets
// back through these helpers is recorded, and handler log lines written in this worker (tests
// that call handlers directly) are captured beside the local server's.
const captureDir = inject('logCaptureDir');
if (captureDir) captureHandlerLogs(captureDir);
const recorded = new Set<string>();
const remember = (secrets: Secret[]) => {
  if (!captureDir) return;
  // mailbox() sees every email again on each call: write each value once per worker.
  const fresh = secrets.filter((s) => !recorded.has(s.value) && recorded.add(s.value));
  recordSecrets(captureDir, fresh);
};

const aws = { region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };

export const cognito = (): CognitoIdentityProviderClient =>
  new CognitoIdentityProviderClient({ ...aws, endpoint: stack().cognitoEndpoint });

export const dynamodb = (): DynamoDBClient => new DynamoDBClient({ ...aws, endpoint: stack().dynamodbEndpoint });

export interface ApiOptions {
  method?: string;
  /** An object is sent as JSON; a string or bytes as they are. */
  body?: unknown;
  /** Sent as `Authorization: Bearer <token>`. */
  token?: string;
  headers?: Record<string, string>;
}

export interface ApiResponse<T = any> {
  status: number;
  headers: Headers;
  /** The parsed body when the response is JSON (application/json or +json), else undefined. */
  json: T;
  text: string;
}

/** One request to the local API; never throws for an HTTP error status. */
export async function api<T = any>(path: string, options: ApiOptions = {}): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = { ...options.headers };
  let body: string | Uint8Array | undefined;
  if (typeof options.body === 'string' || options.body instanceof Uint8Array) {
    body = options.body;
  } else if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] ??= 'application/json';
  }
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  const route = `${options.method ?? 'GET'} ${path.split('?')[0]}`;
  const sent: Secret[] = [...secretsInUrl(path, `${route} request`), ...secretsIn(jsonOf(body), `${route} request`)];
  const bearer = /^Bearer (.+)$/i.exec(headers.authorization ?? headers.Authorization ?? '')?.[1];
  if (bearer) sent.push({ field: 'token', value: bearer, source: `${route} request` });
  remember(sent);
  const res = await fetch(new URL(path, stack().apiUrl), { method: options.method ?? 'GET', headers, body });
  const text = await res.text();
  const isJson = /[/+]json\b/.test(res.headers.get('content-type') ?? '');
  const json = (isJson && text ? JSON.parse(text) : undefined) as T;
  remember(secretsIn(json, `${route} response`));
  return { status: res.status, headers: res.headers, json, text };
}

/** A request body as JSON, when it is JSON. */
function jsonOf(body: string | Uint8Array | undefined): unknown {
  if (body === undefined) return undefined;
  try {
    return JSON.parse(typeof body === 'string' ? body : Buffer.from(body).toString('utf8'));
  } catch {
    return undefined;
  }
}

/** An email as aws-ses-v2-local stores it (GET /store). */
export interface Email {
  messageId: string;
  from: string;
  replyTo: string[];
  destination: { to: string[]; cc: string[]; bcc: string[] };
  subject: string;
  body: { text?: string; html?: string };
  /** Epoch seconds. */
  at: number;
}

/** Every email sent so far, oldest first; `to` keeps those addressed to one recipient. */
export async function mailbox(to?: string): Promise<Email[]> {
  const res = await fetch(new URL('/store', stack().mailboxUrl));
  if (!res.ok) throw new Error(`mailbox answered ${res.status}`);
  const { emails } = (await res.json()) as { emails: Email[] };
  remember(emails.flatMap((e) => secretsInEmail(e, `an email "${e.subject}"`)));
  return to ? emails.filter((e) => e.destination.to.includes(to)) : emails;
}

/**
 * Signs in directly against cognito-local (USER_PASSWORD_AUTH), bypassing the API. A staff user
 * answers the SOFTWARE_TOKEN_MFA challenge with a fresh code of `totpSecret` (the seeded users'
 * own by default).
 */
export async function signInDirect(pool: 'staff' | 'patient', username: string, password: string, totpSecret?: string) {
  const s = stack();
  const clientId = pool === 'staff' ? s.staffClientId : s.patientClientId;
  let result = await cognito().send(
    new InitiateAuthCommand({
      AuthFlow: 'USER_PASSWORD_AUTH',
      ClientId: clientId,
      AuthParameters: { USERNAME: username, PASSWORD: password },
    }),
  );
  if (pool === 'staff' && result.ChallengeName === 'SOFTWARE_TOKEN_MFA') {
    const seeded = [s.admin, s.staff].find((u) => u.username.toLowerCase() === username.toLowerCase());
    const secret = totpSecret ?? seeded?.totpSecret;
    if (!secret) throw new Error(`no TOTP secret for ${username}`);
    const { freshCode } = await import('./staff-session.ts');
    result = await cognito().send(
      new RespondToAuthChallengeCommand({
        ClientId: clientId,
        ChallengeName: 'SOFTWARE_TOKEN_MFA',
        Session: result.Session,
        ChallengeResponses: { USERNAME: username, SOFTWARE_TOKEN_MFA_CODE: await freshCode(username, secret) },
      }),
    );
  }
  const tokens = result.AuthenticationResult;
  remember([
    { field: 'password', value: password, source: `signInDirect(${pool})` },
    ...secretsIn({ accessToken: tokens?.AccessToken, idToken: tokens?.IdToken, refreshToken: tokens?.RefreshToken, session: result.Session }, `signInDirect(${pool})`),
  ]);
  if (!tokens?.AccessToken || !tokens.IdToken) throw new Error(`no tokens for ${username} (challenge ${result.ChallengeName})`);
  return { accessToken: tokens.AccessToken, idToken: tokens.IdToken, refreshToken: tokens.RefreshToken };
}

/** The claims of a JWT, unverified (for assertions only). */
export const claims = (jwt: string): Record<string, unknown> =>
  JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;

export const jwtHeader = (jwt: string): Record<string, unknown> =>
  JSON.parse(Buffer.from(jwt.split('.')[0] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;

/**
 * Moves the handlers' clock to `offsetMs` from real time (0 puts it back). Tests that use it
 * must put it back in an afterEach, since the stack is shared by the whole run.
 */
export async function setClockOffset(offsetMs: number): Promise<void> {
  const res = await fetch(new URL('/__test/clock', stack().apiUrl), { method: 'PUT', body: JSON.stringify({ offsetMs }) });
  if (res.status !== 204) throw new Error(`test clock answered ${res.status}`);
}
