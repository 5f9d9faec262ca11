/**
 * Security rules (../shared/security.md) that are behaviour, checked over HTTP on the local
 * stack where no other file checks them (or checks only part). Each title starts with its rule
 * number; the README's table maps every rule to its tests.
 */
import { AdminGetUserCommand } from '@aws-sdk/client-cognito-identity-provider';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  anotherPin,
  checkLink,
  confirmReset,
  enrolled,
  firstPassword,
  freshWindowOffset,
  invited,
  linkToken,
  newUsername,
  register,
  registered,
  requestReset,
  resetMail,
  secondPassword,
  signIn,
  staffTokens,
  uniqueId,
} from './support/patients.ts';
import { rawApi } from './support/raw-http.ts';
import { api, claims, cognito, dynamodb, mailbox, setClockOffset, stack } from './support/stack.ts';

let admin: string;
let staff: string;

beforeAll(async () => {
  ({ admin, staff } = await staffTokens());
});
afterEach(() => setClockOffset(0));

/** Every item of the records table (or the audit table) whose key mentions `patientId`. */
async function itemsOf(patientId: string, table = stack().tableName): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  let start: Record<string, any> | undefined;
  do {
    const page = await dynamodb().send(
      new ScanCommand({ TableName: table, FilterExpression: 'contains(pk, :id)', ExpressionAttributeValues: { ':id': { S: patientId } }, ExclusiveStartKey: start }),
    );
    out.push(...(page.Items ?? []).map((i) => unmarshall(i)));
    start = page.LastEvaluatedKey;
  } while (start);
  return out;
}

/** Every item of the records table, as JSON text (to look for a secret anywhere in it). */
async function wholeTableText(): Promise<string> {
  const out: string[] = [];
  let start: Record<string, any> | undefined;
  do {
    const page = await dynamodb().send(new ScanCommand({ TableName: stack().tableName, ExclusiveStartKey: start }));
    out.push(JSON.stringify((page.Items ?? []).map((i) => unmarshall(i))));
    start = page.LastEvaluatedKey;
  } while (start);
  return out.join('\n');
}

describe('passwords', () => {
  it('rule 1: 14 characters are refused with the reason; 128 are accepted; the first 64 of them are a different password', async () => {
    const { token, pin } = await invited(staff, 'R1');
    const short = await register({ token, pin, username: newUsername(), password: 'fourteen chars' });
    expect(short.status).toBe(400);
    expect(short.json.errors).toEqual([{ path: 'body.password', message: 'must be at least 15 characters' }]);

    // Ends in a letter: a trailing space is refused (rule 31: Cognito refuses it in AWS).
    const long = `${'tangerine lighthouse whispers over a quiet harbor at dusk while '.repeat(3).slice(0, 127)}x`;
    expect(long).toHaveLength(128);
    const username = newUsername();
    expect((await register({ token, pin, username, password: long })).status).toBe(201);
    expect((await signIn(username, long.slice(0, 64))).status).toBe(401);
    expect((await signIn(username, long.slice(0, 127))).status).toBe(401);
    expect((await signIn(username, long)).status).toBe(200);
  }, 90_000);

  it('rule 2: an all-lowercase passphrase with no digit or symbol is accepted at registration, sign-in, reset and account change', async () => {
    const { token, pin } = await invited(staff, 'R2');
    const username = newUsername();
    const passphrase = 'mossgreenharborlanternquietly';
    expect((await register({ token, pin, username, password: passphrase })).status).toBe(201);
    const session = await signIn(username, passphrase);
    expect(session.status).toBe(200);
    const changed = await api('/account/credentials', {
      method: 'PUT',
      token: session.json.accessToken,
      body: { currentPassword: passphrase, newPassword: 'saffronwillowpebblecanyon' },
    });
    expect(changed.status).toBe(200);

    const p = await registered(staff, 'R2');
    expect((await requestReset(p.username)).status).toBe(202);
    const { token: resetToken, pin: resetPin } = await resetMail(p.email);
    expect((await confirmReset({ token: resetToken, pin: resetPin, username: p.username, newPassword: 'juniperthistlemarbleorchard' })).status).toBe(200);
    expect((await signIn(p.username, 'juniperthistlemarbleorchard')).status).toBe(200);
  }, 90_000);

  it('rule 4: a password does not expire (still signs in 400 days later), and no route asks for or offers a hint or security question', async () => {
    const p = await registered(staff, 'R4');
    await setClockOffset(400 * 24 * 3_600_000);
    const later = await signIn(p.username, firstPassword);
    expect(later.status).toBe(200);
    expect(later.json).not.toHaveProperty('challenge');
    await setClockOffset(0);

    // No request or answer shape of the contract has such a field.
    const doc = (await api('/openapi.json')).json;
    const names: string[] = [];
    const walk = (v: unknown): void => {
      if (Array.isArray(v)) v.forEach(walk);
      else if (v && typeof v === 'object') {
        for (const [k, child] of Object.entries(v)) {
          if (k === 'properties' && child && typeof child === 'object') names.push(...Object.keys(child));
          walk(child);
        }
      }
    };
    walk(doc);
    expect(names.length).toBeGreaterThan(20);
    expect(names.filter((n) => /hint|question|answer/i.test(n))).toEqual([]);
    const account = await api('/account', { token: p.tokens.accessToken });
    expect(Object.keys(account.json).sort()).toEqual(['accountId', 'cases', 'email', 'records', 'username']);
  }, 90_000);
});

describe('guessing', () => {
  it('rule 5: failures from five different source addresses add up on the one account; the right password from a sixth gets 429', async () => {
    const p = await registered(staff, 'R5');
    for (let i = 0; i < 5; i++) {
      const res = await rawApi('/sessions', { method: 'POST', body: { username: p.username, password: `wrong guess number ${i}` }, localAddress: `127.0.5.${i + 1}` });
      expect(res.status, `attempt ${i + 1}`).toBe(401);
    }
    const blocked = await rawApi('/sessions', { method: 'POST', body: { username: p.username, password: firstPassword }, localAddress: '127.0.5.9' });
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
  }, 90_000);

  it('rule 5: a credential change that also tries its new password as proof counts both guesses: two such tries and one wrong sign-in lock the account like five failures', async () => {
    const p = await registered(staff, 'R5c');
    const session = await signIn(p.username, firstPassword);
    expect(session.status).toBe(200);
    for (let i = 0; i < 2; i++) {
      const res = await rawApi('/account/credentials', {
        method: 'PUT',
        token: session.json.accessToken,
        body: { currentPassword: `wrong current guess ${i}`, newPassword: `another wrong guess here ${i}` },
        localAddress: `127.0.7.${i + 1}`,
      });
      expect(res.status, `try ${i + 1}`).toBe(401);
    }
    const fifth = await rawApi('/sessions', { method: 'POST', body: { username: p.username, password: 'one more wrong guess' }, localAddress: '127.0.7.8' });
    expect(fifth.status).toBe(401);
    // Five counted failures: the right password now waits. Counted once per try, three would not.
    const blocked = await rawApi('/sessions', { method: 'POST', body: { username: p.username, password: firstPassword }, localAddress: '127.0.7.9' });
    expect(blocked.status).toBe(429);
  }, 90_000);

  it('rule 6: 100 failed sign-ins from one address, each on another username, make the 101st 429 for any username; another address is not affected', async () => {
    // A window of its own on the test clock, so earlier files' failures from 127.0.0.1 do not count.
    await setClockOffset(freshWindowOffset(200));
    const from = '127.0.6.1';
    for (let i = 0; i < 100; i += 20) {
      const batch = await Promise.all(
        Array.from({ length: 20 }, (_, j) => rawApi('/sessions', { method: 'POST', body: { username: uniqueId(`nobody${i + j}`), password: 'a wrong password here' }, localAddress: from })),
      );
      for (const res of batch) expect(res.status).toBe(401);
    }
    const over = await rawApi('/sessions', { method: 'POST', body: { username: uniqueId('nobody-more'), password: 'a wrong password here' }, localAddress: from });
    expect(over.status).toBe(429);
    expect(Number(over.headers['retry-after'])).toBeGreaterThan(0);
    const elsewhere = await rawApi('/sessions', { method: 'POST', body: { username: uniqueId('nobody-else'), password: 'a wrong password here' }, localAddress: '127.0.6.2' });
    expect(elsewhere.status).toBe(401);
  }, 90_000);

  it('rule 8: reset requests alone leave the password, the sessions, the record and the login as they were', async () => {
    const p = await registered(staff, 'R8');
    const before = (await api(`/patients/${p.patientId}/portal`, { token: staff })).json;
    for (let i = 0; i < 3; i++) expect((await requestReset(p.username)).status).toBe(202);
    expect((await resetMail(p.email)).count).toBe(3);
    const after = (await api(`/patients/${p.patientId}/portal`, { token: staff })).json;
    expect(after.version).toBe(before.version);
    expect(after.statusMessage).toBe(before.statusMessage);
    expect((await api('/account', { token: p.tokens.accessToken })).status).toBe(200);
    expect((await signIn(p.username, firstPassword)).status).toBe(200);
    const login = await cognito().send(new AdminGetUserCommand({ UserPoolId: stack().patientUserPoolId, Username: after.accountId }));
    expect(login.Enabled).toBe(true);
  }, 90_000);
});

describe('links and PINs', () => {
  it('rule 9: link tokens are stored nowhere in clear, and one patient’s invitation or reset link never acts on another', async () => {
    const a = await invited(staff, 'R9A');
    const b = await invited(staff, 'R9B');
    const table = await wholeTableText();
    expect(table).not.toContain(a.token);
    expect(table).not.toContain(b.token);

    // A's link with B's PIN is a wrong PIN for A, and leaves B untouched.
    expect((await register({ token: a.token, pin: b.pin === a.pin ? anotherPin(a.pin) : b.pin, username: newUsername(), password: firstPassword })).status).toBe(401);
    expect((await api(`/patients/${b.patientId}/portal`, { token: staff })).json.registration).toBe('NotRegistered');
    expect((await register({ token: b.token, pin: b.pin, username: newUsername(), password: firstPassword })).status).toBe(201);

    // A reset link for one patient, presented with another's username, is refused and changes neither.
    const x = await registered(staff, 'R9X');
    const y = await registered(staff, 'R9Y');
    expect((await requestReset(x.username)).status).toBe(202);
    const xs = await resetMail(x.email);
    expect(await wholeTableText()).not.toContain(xs.token);
    expect((await confirmReset({ token: xs.token, pin: xs.pin, username: y.username, newPassword: secondPassword })).status).toBe(401);
    expect((await signIn(y.username, firstPassword)).status).toBe(200);
    expect((await confirmReset({ token: xs.token, pin: xs.pin, username: x.username, newPassword: secondPassword })).status).toBe(200);
    expect((await signIn(y.username, firstPassword)).status).toBe(200);
  }, 90_000);

  it('rule 10: neither the invitation PIN nor the reset PIN is stored in clear, in the records or the audit table', async () => {
    const { patientId, pin, email } = await invited(staff, 'R10');
    // Register Patient makes a login, so a reset can be asked for while the invitation is still pending.
    const reg = await api(`/patients/${patientId}/portal/registration`, { method: 'POST', token: staff });
    const challenge = await signIn(reg.json.username, reg.json.temporaryPassword);
    expect((await api('/sessions/new-password', { method: 'POST', body: { session: challenge.json.session, newPassword: firstPassword } })).status).toBe(200);
    expect((await requestReset(reg.json.username)).status).toBe(202);
    const reset = await resetMail(email);
    const stored = JSON.stringify([...(await itemsOf(patientId)), ...(await itemsOf(patientId, stack().auditTableName))]);
    expect(stored).toContain(`RESET#${patientId}`); // the items were found
    for (const secret of [pin, reset.pin]) {
      expect(stored).not.toContain(secret);
      expect(stored.toLowerCase()).not.toContain(secret.toLowerCase());
    }
  }, 90_000);

  it('rule 14: invitation and reset links use the configured portal URL whatever Host and X-Forwarded-Host the request carries', async () => {
    const { portalUrl } = (await api('/settings', { token: staff })).json as { portalUrl: string };
    const evil = { host: 'evil.example.test', 'x-forwarded-host': 'evil.example.test', 'x-forwarded-proto': 'https', forwarded: 'host=evil.example.test' };
    const p = await enrolled(staff, 'R14');
    const res = await rawApi(`/patients/${p.patientId}/portal/invitation`, { method: 'POST', token: staff, headers: evil });
    expect(res.status).toBe(201);
    const r = await registered(staff, 'R14');
    expect((await rawApi('/credential-resets', { method: 'POST', body: { username: r.username }, headers: evil })).status).toBe(202);
    const texts = [...(await mailbox(p.email)), ...(await mailbox(r.email))].map((m) => `${m.body.text} ${m.body.html}`).filter((t) => t.includes('#token='));
    expect(texts).toHaveLength(2);
    for (const text of texts) {
      expect(text).not.toContain('evil.example.test');
      expect(text).toMatch(new RegExp(`${portalUrl.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}/portal/(register|reset)#token=`));
    }
    expect(await linkToken(p.email, '/portal/register')).toBeTruthy();
  }, 90_000);
});

describe('secrets in URLs', () => {
  /** Every http(s) URL in an email, and the tokens it carries after `#token=`. */
  const linksOf = (m: { body: { text?: string; html?: string } }) => {
    const body = `${m.body.text ?? ''}\n${(m.body.html ?? '').replace(/&amp;/g, '&')}`;
    return {
      urls: [...body.matchAll(/https?:\/\/[^\s"'<>]+/g)].map((u) => new URL(u[0])),
      tokens: [...body.matchAll(/#token=([A-Za-z0-9_-]+)/g)].map((t) => t[1]!),
    };
  };

  it('rule 26: every emailed link (invitation, resend, patient and staff reset, the change notice) holds its secret only after #, and the invitation lookup takes it in a POST body', async () => {
    const p = await invited(staff, 'R26');
    expect((await api(`/patients/${p.patientId}/portal/invitation/resend`, { method: 'POST', token: staff })).status).toBe(200);
    const r = await registered(staff, 'R26');
    expect((await requestReset(r.username)).status).toBe(202);
    const reset = await resetMail(r.email);
    expect((await confirmReset({ token: reset.token, pin: reset.pin, username: r.username, newPassword: secondPassword })).status).toBe(200);
    expect((await api(`/patients/${r.patientId}/portal/credential-reset`, { method: 'POST', token: staff })).status).toBe(202);

    const mails = [...(await mailbox(p.email)), ...(await mailbox(r.email))];
    expect(mails.length).toBeGreaterThanOrEqual(5);
    let tokens = 0;
    for (const m of mails) {
      const { urls, tokens: inMail } = linksOf(m);
      tokens += inMail.length;
      for (const url of urls) {
        // What a server sees of the link: no query at all, and no token in the path.
        expect(url.search, m.subject).toBe('');
        for (const t of inMail) expect(`${url.origin}${url.pathname}`, m.subject).not.toContain(t);
      }
      // Nothing that looks like a token outside a fragment.
      expect(`${m.body.text}${m.body.html}`, m.subject).not.toMatch(/[?&/]token[=/]/);
    }
    expect(tokens).toBeGreaterThanOrEqual(4); // invitation, resend, two resets (text and HTML each at least once)

    // The link from the newest invitation email: looked up by POST, its token in the body.
    const token = await linkToken(p.email, '/portal/register');
    const found = await checkLink(token);
    expect(found.status).toBe(200);
    expect(found.json).toEqual({ practiceName: expect.any(String), expiresAt: expect.any(String), needs: ['pin'], kind: 'patient' });
    // The old route is gone: a token in a path is answered like any unknown address.
    expect([403, 404]).toContain((await api(`/invitations/${token}`)).status);
    expect((await api('/invitations/lookup')).status).toBe(405);
  }, 90_000);

  it('rule 26 (hostile): the lookup answers one 410 body for an unknown, a replaced and a cancelled link, and takes no token from the query', async () => {
    const p = await invited(staff, 'R26H');
    const first = p.token;
    expect((await api(`/patients/${p.patientId}/portal/invitation/resend`, { method: 'POST', token: staff })).status).toBe(200);
    const second = await linkToken(p.email, '/portal/register');
    expect(second).not.toBe(first);
    const unknown = await checkLink('Z'.repeat(43));
    const replaced = await checkLink(first);
    // A token in the query instead of the body: a 400 for the missing body field, never a lookup.
    const inQuery = await api(`/invitations/lookup?token=${second}`, { method: 'POST', body: {} });
    expect(inQuery.status).toBe(400);
    expect(inQuery.text).not.toContain(second);
    expect((await checkLink(second)).status).toBe(200);
    expect((await api(`/patients/${p.patientId}/portal/invitation`, { method: 'DELETE', token: staff })).status).toBe(200);
    const cancelled = await checkLink(second);
    for (const res of [unknown, replaced, cancelled]) expect(res.status).toBe(410);
    expect(replaced.text).toBe(unknown.text);
    expect(cancelled.text).toBe(unknown.text);
  }, 90_000);
});

describe('sessions', () => {
  it('rule 15: a credential change emails the patient a notice that holds no secret', async () => {
    const p = await registered(staff, 'R15');
    const before = (await mailbox(p.email)).length;
    const newName = newUsername();
    const changed = await api('/account/credentials', {
      method: 'PUT',
      token: p.tokens.accessToken,
      body: { currentPassword: firstPassword, newPassword: secondPassword, newUsername: newName },
    });
    expect(changed.status).toBe(200);
    const mails = (await mailbox(p.email)).slice(before);
    expect(mails.map((m) => m.subject)).toEqual([expect.stringMatching(/credentials were changed/)]);
    const body = `${mails[0]!.subject} ${mails[0]!.body.text} ${mails[0]!.body.html}`;
    for (const secret of [firstPassword, secondPassword, newName, p.username, changed.json.accessToken]) expect(body).not.toContain(secret);
  }, 90_000);

  it('rule 16: patient access and ID tokens from POST /sessions live at most 60 minutes', async () => {
    const p = await registered(staff, 'R16');
    const res = await signIn(p.username, firstPassword);
    expect(res.status).toBe(200);
    expect(res.json.expiresIn).toBeGreaterThan(0);
    expect(res.json.expiresIn).toBeLessThanOrEqual(3600);
    for (const jwt of [res.json.accessToken, res.json.idToken] as string[]) {
      const c = claims(jwt) as { exp: number; iat: number };
      expect(c.exp - c.iat).toBeGreaterThan(0);
      expect(c.exp - c.iat).toBeLessThanOrEqual(3600);
    }
  }, 90_000);

  it('rule 17: revoke disables the login and kills a pending reset link, which stays dead when access is enabled again', async () => {
    const p = await registered(staff, 'R17');
    expect((await requestReset(p.username)).status).toBe(202);
    const { token, pin } = await resetMail(p.email);
    const revoked = await api(`/patients/${p.patientId}/portal/revoke`, { method: 'POST', token: staff });
    expect(revoked.status).toBe(200);
    const login = await cognito().send(new AdminGetUserCommand({ UserPoolId: stack().patientUserPoolId, Username: revoked.json.accountId }));
    expect(login.Enabled).toBe(false);
    expect((await api('/account', { token: p.tokens.accessToken })).status).toBe(401);

    expect((await api(`/patients/${p.patientId}/portal`, { method: 'PUT', token: staff, body: { accessEnabled: true } })).status).toBe(200);
    const dead = await confirmReset({ token, pin, username: p.username, newPassword: secondPassword });
    const unknown = await confirmReset({ token: 'Q'.repeat(43), pin, username: p.username, newPassword: secondPassword });
    expect(dead.status).toBe(410);
    expect(dead.text).toBe(unknown.text);
    expect((await signIn(p.username, secondPassword)).status).toBe(401);
    expect((await signIn(p.username, firstPassword)).status).toBe(200);
  }, 90_000);
});

describe('audit', () => {
  it('rule 18: patient sign-ins, right and wrong, and a reset request are audited with actor, action, UTC time, source address and outcome, and no secret', async () => {
    const p = await registered(staff, 'R18');
    expect((await signIn(p.username, 'not the right password at all')).status).toBe(401);
    const ok = await signIn(p.username, firstPassword);
    expect(ok.status).toBe(200);
    expect((await requestReset(p.username)).status).toBe(202);
    const trail = await api(`/patients/${p.patientId}/portal/audit`, { token: admin });
    const items = trail.json.items as { at: string; actor: string; action: string; detail: { outcome: string; sourceIp: string } }[];
    const signIns = items.filter((i) => i.action === 'patient.sign-in').map((i) => i.detail.outcome);
    expect(signIns).toEqual(expect.arrayContaining(['success', 'failure']));
    expect(items.some((i) => i.action === 'reset.requested')).toBe(true);
    for (const i of items) {
      expect(i.at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
      expect(i.actor).toBeTruthy();
      expect(['success', 'failure']).toContain(i.detail.outcome);
      expect(i.detail.sourceIp).toMatch(/127\.0\.0\.1|::1/);
    }
    const text = JSON.stringify(trail.json);
    for (const secret of [firstPassword, 'not the right password at all', ok.json.accessToken, p.email, (await resetMail(p.email)).pin]) {
      expect(text).not.toContain(secret);
    }
  }, 90_000);

  it('rule 19: no route changes or deletes an audit entry; entries stay as written while the record changes', async () => {
    const { patientId } = await enrolled(staff, 'R19');
    const first = (await api(`/patients/${patientId}/portal/audit`, { token: admin })).json.items;
    expect(first).toHaveLength(1);
    for (const method of ['PUT', 'PATCH', 'DELETE', 'POST']) {
      const res = await api(`/patients/${patientId}/portal/audit`, { method, token: admin, body: method === 'DELETE' ? undefined : { items: [] } });
      expect([404, 405], method).toContain(res.status);
      expect(res.headers.get('content-type'), method).toBe('application/problem+json');
    }
    await api(`/patients/${patientId}/portal`, { method: 'PUT', token: staff, body: { comment: 'changed' } });
    await api(`/patients/${patientId}/portal/revoke`, { method: 'POST', token: staff });
    const later = (await api(`/patients/${patientId}/portal/audit`, { token: admin })).json.items;
    expect(later).toHaveLength(3);
    expect(later.at(-1)).toEqual(first[0]);
  }, 90_000);
});

describe('link checks answer alike', () => {
  it('rule 11: an invitation link answers one 410 body per route whether used, cancelled, expired or unknown', async () => {
    const used = await invited(staff, 'R11');
    expect((await register({ token: used.token, pin: used.pin, username: newUsername(), password: firstPassword })).status).toBe(201);
    const cancelled = await invited(staff, 'R11');
    expect((await api(`/patients/${cancelled.patientId}/portal/invitation`, { method: 'DELETE', token: staff })).status).toBe(200);
    const expired = await invited(staff, 'R11');
    const bodies = { check: new Set<string>(), register: new Set<string>() };
    const gone = async (token: string, pin: string) => {
      const answers = { check: await checkLink(token), register: await register({ token, pin, username: newUsername(), password: firstPassword }) };
      for (const [route, res] of Object.entries(answers) as [keyof typeof bodies, typeof answers.check][]) {
        expect(res.status, route).toBe(410);
        expect(res.headers.get('content-type'), route).toBe('application/problem+json');
        bodies[route].add(res.text);
      }
    };
    await gone(used.token, used.pin);
    await gone(cancelled.token, cancelled.pin);
    await gone('Z'.repeat(43), 'ABCDEF');
    await setClockOffset(15 * 24 * 3_600_000);
    await gone(expired.token, expired.pin);
    expect(bodies.check.size).toBe(1);
    expect(bodies.register.size).toBe(1);
  }, 90_000);
});
