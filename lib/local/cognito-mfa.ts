/**
 * AWS's TOTP enrolment during sign-in (`MFA_SETUP`), played in front of cognito-local for the
 * staff app client only.
 *
 * Cognito with MFA required answers a user who has no authenticator yet with `MFA_SETUP` and a
 * Session; `AssociateSoftwareToken` and `VerifySoftwareToken` take that Session, and
 * `RespondToAuthChallenge` `MFA_SETUP` with the last Session hands out the tokens. cognito-local
 * 5.3.0 refuses both token calls by Session and never answers `MFA_SETUP` (see
 * ../shared/emulators.md). The local staff pool has MFA `OPTIONAL`, so cognito-local challenges
 * `SOFTWARE_TOKEN_MFA` (checking RFC 6238 codes for real) for every enrolled user; this proxy
 * covers the rest:
 *   - InitiateAuth, or RespondToAuthChallenge `NEW_PASSWORD_REQUIRED`, that would hand tokens to
 *     a staff user with no SOFTWARE_TOKEN_MFA (GetUser with the access token) answers
 *     `{ChallengeName: "MFA_SETUP", Session}` and keeps the tokens here;
 *   - AssociateSoftwareToken {Session} → cognito-local with the held AccessToken → {SecretCode, Session};
 *   - VerifySoftwareToken {Session, UserCode} → cognito-local with the held AccessToken, then
 *     SetUserMFAPreference (TOTP enabled and preferred) → {Status: "SUCCESS", Session};
 *   - RespondToAuthChallenge {ChallengeName: "MFA_SETUP", Session} after a verified code → the held tokens.
 * Each answer carries a fresh Session (the previous one stops working); sessions expire after 3
 * minutes, as Cognito's do.
 *
 * A lost authenticator (POST /staff/{staffId}/mfa-reset): cognito-local has neither
 * AdminSetUserMFAPreference nor AdminDeleteSoftwareToken. The proxy answers both as Cognito does and
 * remembers the user as reset (in memory, for this run of the local stack): their next staff
 * sign-in, once cognito-local has proved the password and asks for a code, is answered MFA_SETUP
 * instead (tokens from cognito-local's AdminInitiateAuth, which checks the password and asks for no
 * code), and AdminGetUser no longer lists SOFTWARE_TOKEN_MFA for them, until they enrol again. Every other request (the patient client, the admin calls, the JWKS
 * path) passes through untouched, so tokens keep cognito-local's issuer.
 */
import { randomBytes } from 'node:crypto';
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HOST } from './ports.ts';
import { triggerSourceOf, withTokenTrigger } from './cognito-tokens.ts';

/** Cognito's sign-in sessions last 3 minutes. */
export const MFA_SETUP_SESSION_MS = 3 * 60 * 1000;

const TARGET_PREFIX = 'AWSCognitoIdentityProviderService.';

interface Held {
  username: string;
  clientId: string;
  tokens: Record<string, unknown>;
  verified: boolean;
  expiresAt: number;
}

export interface CognitoMfaProxy {
  url: string;
  close(): Promise<void>;
}

export interface CognitoMfaProxyOptions {
  /** cognito-local's URL. */
  upstream: string;
  /** Only this app client gets the MFA_SETUP play. */
  staffClientId: string;
  /** This app client's tokens go through the pre-token-generation trigger, as in AWS (cognito-tokens.ts). */
  patientClientId?: string;
  port?: number;
  now?: () => number;
}

export async function startCognitoMfaProxy(options: CognitoMfaProxyOptions): Promise<CognitoMfaProxy> {
  const now = options.now ?? Date.now;
  const held = new Map<string, Held>();
  /** Users whose authenticator an admin reset, by lower-cased username, until they enrol again. */
  const reset = new Set<string>();
  const upstream = new URL(options.upstream);

  /** One request to cognito-local; the raw answer. */
  const forward = (req: { method: string; url: string; headers: IncomingMessage['headers'] }, body: Buffer) =>
    new Promise<{ status: number; headers: IncomingMessage['headers']; body: Buffer }>((resolve, reject) => {
      const out = httpRequest(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: req.method,
          path: req.url,
          headers: { ...hopByHopless(req.headers), host: upstream.host, 'content-length': String(body.length) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const all = Buffer.concat(chunks);
            resolve({ status: res.statusCode ?? 500, headers: { ...hopByHopless(res.headers), 'content-length': String(all.length) }, body: all });
          });
          res.on('error', reject);
        },
      );
      out.on('error', reject);
      out.end(body);
    });

  /** A call of our own to cognito-local (JSON 1.1, as the SDK sends it). */
  const call = async (target: string, input: Record<string, unknown>) => {
    const body = Buffer.from(JSON.stringify(input));
    const res = await forward(
      {
        method: 'POST',
        url: '/',
        headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `${TARGET_PREFIX}${target}` },
      },
      body,
    );
    return { status: res.status, json: parse(res.body) };
  };

  const hold = (entry: Omit<Held, 'expiresAt'>): string => {
    for (const [id, h] of held) if (h.expiresAt <= now()) held.delete(id);
    const id = randomBytes(48).toString('base64url');
    const { username, clientId, tokens, verified } = entry;
    held.set(id, { username, clientId, tokens, verified, expiresAt: now() + MFA_SETUP_SESSION_MS });
    return id;
  };

  /** Takes a live session (it is used up: the answer carries a new one). */
  const take = (session: unknown): (Held & { id: string }) | undefined => {
    if (typeof session !== 'string') return undefined;
    const entry = held.get(session);
    held.delete(session);
    return entry && entry.expiresAt > now() ? { ...entry, id: session } : undefined;
  };

  /** Tokens for a user without TOTP become an MFA_SETUP challenge; anything else is answered as is. */
  const mfaSetupIfNeeded = async (clientId: string, answer: Record<string, unknown>): Promise<Record<string, unknown>> => {
    const tokens = answer.AuthenticationResult as Record<string, unknown> | undefined;
    const accessToken = tokens?.AccessToken;
    if (typeof accessToken !== 'string') return answer;
    const user = await call('GetUser', { AccessToken: accessToken });
    if (user.status !== 200) throw new Error(`GetUser answered ${user.status}`);
    const methods = (user.json.UserMFASettingList as string[] | undefined) ?? [];
    if (methods.includes('SOFTWARE_TOKEN_MFA')) return answer;
    const username = String(user.json.Username);
    const session = hold({ username, clientId, tokens: tokens!, verified: false });
    return {
      ChallengeName: 'MFA_SETUP',
      ChallengeParameters: { MFAS_CAN_SETUP: '["SOFTWARE_TOKEN_MFA"]', USER_ID_FOR_SRP: username },
      Session: session,
    };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const body = await readBody(req);
    const target = String(req.headers['x-amz-target'] ?? '').replace(TARGET_PREFIX, '');
    const input = req.method === 'POST' && target ? parse(body) : {};
    const passThrough = async () => {
      const answer = await forward({ method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers }, body);
      res.writeHead(answer.status, answer.headers);
      res.end(answer.body);
    };
    const json = (status: number, value: Record<string, unknown>) => {
      const text = JSON.stringify(value);
      res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    };
    const deadSession = () =>
      json(400, { __type: 'NotAuthorizedException', message: 'Invalid session for the user, session is expired.' });

    const staffClient = input.ClientId === options.staffClientId;
    if (target === 'AdminDeleteSoftwareToken' || (target === 'AdminSetUserMFAPreference' && (input.SoftwareTokenMfaSettings as { Enabled?: boolean } | undefined)?.Enabled === false)) {
      const user = await call('AdminGetUser', { UserPoolId: input.UserPoolId, Username: input.Username });
      if (user.status !== 200) return json(user.status, user.json);
      reset.add(String(user.json.Username).toLowerCase());
      json(200, {});
      return;
    }
    if (target === 'AdminGetUser') {
      const answer = await call('AdminGetUser', input);
      const username = String(answer.json.Username ?? '').toLowerCase();
      if (answer.status === 200 && reset.has(username)) {
        const list = ((answer.json.UserMFASettingList as string[] | undefined) ?? []).filter((m) => m !== 'SOFTWARE_TOKEN_MFA');
        const { PreferredMfaSetting: _preferred, ...rest } = answer.json;
        return json(200, { ...rest, UserMFASettingList: list });
      }
      return json(answer.status, answer.json);
    }
    const resetUser = String((input.AuthParameters as Record<string, unknown> | undefined)?.USERNAME ?? '').toLowerCase();
    if (target === 'InitiateAuth' && staffClient && reset.has(resetUser)) {
      const answer = await forward({ method: 'POST', url: req.url ?? '/', headers: req.headers }, body);
      const out = parse(answer.body);
      if (answer.status !== 200 || out.ChallengeName !== 'SOFTWARE_TOKEN_MFA') {
        res.writeHead(answer.status, answer.headers);
        res.end(answer.body);
        return;
      }
      // The password is proved; the code of the lost authenticator is not asked for.
      const admin = await call('AdminInitiateAuth', { ClientId: input.ClientId, AuthFlow: 'ADMIN_USER_PASSWORD_AUTH', AuthParameters: input.AuthParameters });
      const tokens = admin.json.AuthenticationResult as Record<string, unknown> | undefined;
      if (admin.status !== 200 || !tokens) return json(admin.status, admin.json);
      const username = String((out.ChallengeParameters as Record<string, unknown> | undefined)?.USER_ID_FOR_SRP ?? resetUser);
      return json(200, {
        ChallengeName: 'MFA_SETUP',
        ChallengeParameters: { MFAS_CAN_SETUP: '["SOFTWARE_TOKEN_MFA"]', USER_ID_FOR_SRP: username },
        Session: hold({ username, clientId: options.staffClientId, tokens, verified: false }),
      });
    }
    if ((target === 'InitiateAuth' && staffClient) || (target === 'RespondToAuthChallenge' && staffClient && input.ChallengeName === 'NEW_PASSWORD_REQUIRED')) {
      const answer = await forward({ method: 'POST', url: req.url ?? '/', headers: req.headers }, body);
      if (answer.status !== 200) {
        res.writeHead(answer.status, answer.headers);
        res.end(answer.body);
        return;
      }
      json(200, await mfaSetupIfNeeded(options.staffClientId, parse(answer.body)));
      return;
    }
    const tokenSource = options.patientClientId !== undefined && input.ClientId === options.patientClientId ? triggerSourceOf(target, input) : undefined;
    if (tokenSource) {
      const answer = await forward({ method: 'POST', url: req.url ?? '/', headers: req.headers }, body);
      if (answer.status !== 200) {
        res.writeHead(answer.status, answer.headers);
        res.end(answer.body);
        return;
      }
      const { handler: trigger } = await import('../../lambdas/triggers/pre-token-generation.ts');
      json(200, await withTokenTrigger(parse(answer.body), tokenSource, { clientId: String(input.ClientId) }, trigger as never));
      return;
    }
    if (target === 'RespondToAuthChallenge' && input.ChallengeName === 'MFA_SETUP') {
      const entry = take(input.Session);
      const responses = (input.ChallengeResponses ?? {}) as Record<string, unknown>;
      // Cognito checks that the USERNAME in the answer is the session's user.
      if (!entry || !entry.verified || entry.clientId !== input.ClientId || String(responses.USERNAME ?? '').toLowerCase() !== entry.username.toLowerCase()) {
        deadSession();
        return;
      }
      json(200, { ChallengeParameters: {}, AuthenticationResult: entry.tokens });
      return;
    }
    if ((target === 'AssociateSoftwareToken' || target === 'VerifySoftwareToken') && input.Session && !input.AccessToken) {
      const entry = take(input.Session);
      if (!entry || entry.verified) {
        deadSession();
        return;
      }
      const accessToken = entry.tokens.AccessToken;
      if (target === 'AssociateSoftwareToken') {
        const out = await call('AssociateSoftwareToken', { AccessToken: accessToken });
        if (out.status !== 200) return json(out.status, out.json);
        json(200, { SecretCode: out.json.SecretCode, Session: hold(entry) });
        return;
      }
      const out = await call('VerifySoftwareToken', {
        AccessToken: accessToken,
        UserCode: input.UserCode,
        ...(input.FriendlyDeviceName ? { FriendlyDeviceName: input.FriendlyDeviceName } : {}),
      });
      if (out.status !== 200) {
        // A wrong code leaves the same session usable until it expires (the person may type again).
        held.set(entry.id, { username: entry.username, clientId: entry.clientId, tokens: entry.tokens, verified: false, expiresAt: entry.expiresAt });
        json(out.status, { ...out.json, __type: String(out.json.__type ?? 'CodeMismatchException') });
        return;
      }
      const preference = await call('SetUserMFAPreference', {
        AccessToken: accessToken,
        SoftwareTokenMfaSettings: { Enabled: true, PreferredMfa: true },
      });
      if (preference.status !== 200) return json(preference.status, preference.json);
      reset.delete(entry.username.toLowerCase());
      json(200, { Status: 'SUCCESS', Session: hold({ ...entry, verified: true }) });
      return;
    }
    await passThrough();
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ __type: 'InternalErrorException', message: 'cognito-mfa proxy failed' }));
      } else res.destroy();
      console.error('cognito-mfa proxy:', err instanceof Error ? err.message : 'failed');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: options.port ?? 0, host: HOST }, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${HOST}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Headers that describe one hop's framing; each hop sets its own. */
function hopByHopless(headers: IncomingMessage['headers']): IncomingMessage['headers'] {
  const { 'transfer-encoding': _te, connection: _c, 'keep-alive': _k, 'content-length': _cl, ...rest } = headers;
  return rest;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function parse(body: Buffer): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(body.toString('utf8') || '{}');
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
