/**
 * Security rule 29 over HTTP on the local stack (issue 13 items 3 and 6): changing a record's
 * email, or turning its access off, kills every pending invitation (link and PIN), reset and
 * email-match link of that record for good: turning access on again does not revive them, and
 * neither does anything after a revoke. Every dead link gets the one 410 body of an unknown link.
 * An unrelated edit (comment, cases) kills nothing. The old address of a registered record is
 * told of an email change, with no secret and no link.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, mailbox, type ApiResponse } from './support/stack.ts';
import {
  checkLink,
  confirmReset,
  enrolled,
  firstPassword,
  invited,
  linkToken,
  newUsername,
  register,
  registered,
  requestReset,
  resetMail,
  secondPassword,
  staffTokens,
} from './support/patients.ts';

let admin: string;
let staff: string;

beforeAll(async () => {
  ({ admin, staff } = await staffTokens());
  expect((await api('/settings', { method: 'PUT', token: admin, body: { emailMatch: true } })).status).toBe(200);
});
afterAll(async () => {
  await api('/settings', { method: 'PUT', token: admin, body: { emailMatch: false } });
});

const edit = async (patientId: string, body: Record<string, unknown>) =>
  expect((await api(`/patients/${patientId}/portal`, { method: 'PUT', token: staff, body })).status).toBe(200);

/** The state changes after which a link sent before must be dead for good. */
const killers: [string, (p: { patientId: string; email: string }) => Promise<void>][] = [
  ['the email changed', (p) => edit(p.patientId, { email: `new-${p.email}` })],
  ['access turned off', (p) => edit(p.patientId, { accessEnabled: false })],
  ['access turned off, then on again', async (p) => {
    await edit(p.patientId, { accessEnabled: false });
    await edit(p.patientId, { accessEnabled: true });
  }],
  ['revoke, then access on again', async (p) => {
    expect((await api(`/patients/${p.patientId}/portal/revoke`, { method: 'POST', token: staff })).status).toBe(200);
    await edit(p.patientId, { accessEnabled: true });
  }],
];

/** Changes that have nothing to do with where links go or whether the patient may use them. */
const unrelated: [string, (p: { patientId: string }) => Promise<void>][] = [
  ['nothing changed', async () => undefined],
  ['the comment and the cases changed', (p) => edit(p.patientId, { comment: 'called about the portal', cases: ['C-1', 'C-2'] })],
];

const gone = (res: ApiResponse, unknown: ApiResponse) => {
  expect(res.status).toBe(410);
  expect(res.text).toBe(unknown.text);
};

describe('rule 29: an invitation (link and PIN)', () => {
  for (const [name, kill] of killers) {
    it(`rule 29: after ${name}, the link is 410 on lookup and on registration with the right PIN, and staff see no PIN`, async () => {
      const p = await invited(staff, 'R29I');
      await kill(p);
      const unknownLookup = await checkLink('U'.repeat(43));
      gone(await checkLink(p.token), unknownLookup);
      const unknownRegistration = await register({ token: 'U'.repeat(43), pin: p.pin, username: newUsername(), password: firstPassword });
      gone(await register({ token: p.token, pin: p.pin, username: newUsername(), password: firstPassword }), unknownRegistration);
      expect((await api(`/patients/${p.patientId}/portal/access-code`, { token: staff })).status).toBe(404);
      // And a resend does not bring the same PIN back on a new link.
      expect((await api(`/patients/${p.patientId}/portal/invitation/resend`, { method: 'POST', token: staff })).status).not.toBe(200);
    });
  }

  for (const [name, change] of unrelated) {
    it(`rule 29: after ${name}, the link still looks up and registers`, async () => {
      const p = await invited(staff, 'R29I');
      await change(p);
      expect((await checkLink(p.token)).status).toBe(200);
      expect((await register({ token: p.token, pin: p.pin, username: newUsername(), password: firstPassword })).status).toBe(201);
    });
  }
});

describe('rule 29: a credential reset', () => {
  for (const [name, kill] of killers) {
    it(`rule 29: after ${name}, the reset link is 410 with the right PIN and username, and the password is unchanged`, async () => {
      const p = await registered(staff, 'R29R');
      expect((await requestReset(p.username)).status).toBe(202);
      const { token, pin } = await resetMail(p.email);
      await kill(p);
      const unknown = await confirmReset({ token: 'U'.repeat(43), pin, username: p.username, newPassword: secondPassword });
      gone(await confirmReset({ token, pin, username: p.username, newPassword: secondPassword }), unknown);
      if (name.includes('again')) expect((await api('/sessions', { method: 'POST', body: { username: p.username, password: firstPassword } })).status).toBe(200);
    });
  }

  for (const [name, change] of unrelated) {
    it(`rule 29: after ${name}, the reset still completes`, async () => {
      const p = await registered(staff, 'R29R');
      expect((await requestReset(p.username)).status).toBe(202);
      const { token, pin } = await resetMail(p.email);
      await change(p);
      expect((await confirmReset({ token, pin, username: p.username, newPassword: secondPassword })).status).toBe(200);
    });
  }
});

describe('rule 29: an email-match verification link', () => {
  const requested = async () => {
    const p = await enrolled(staff, 'R29E');
    expect((await api('/registrations/email', { method: 'POST', body: { email: p.email } })).status).toBe(202);
    return { ...p, token: await linkToken(p.email, '/portal/verify') };
  };
  const confirm = (token: string) => api('/registrations/email/confirm', { method: 'POST', body: { token, username: newUsername(), password: firstPassword } });

  for (const [name, kill] of killers) {
    it(`rule 29: after ${name}, the verification link is 410`, async () => {
      const p = await requested();
      await kill(p);
      gone(await confirm(p.token), await confirm('U'.repeat(43)));
    });
  }

  for (const [name, change] of unrelated) {
    it(`rule 29: after ${name}, the verification link still registers`, async () => {
      const p = await requested();
      await change(p);
      expect((await confirm(p.token)).status).toBe(201);
    });
  }
});

describe('rule 29: the old address of a registered record', () => {
  it('rule 29: is told of an email change, with no secret and no link; the new address gets nothing', async () => {
    const p = await registered(staff, 'R29N');
    const before = (await mailbox(p.email)).length;
    const next = `moved-${p.email}`;
    await edit(p.patientId, { email: next });
    const notices = (await mailbox(p.email)).slice(before);
    expect(notices).toHaveLength(1);
    const notice = notices[0]!;
    expect(notice.subject).toMatch(/email address .* was changed/);
    const all = `${notice.subject}\n${notice.body.text ?? ''}\n${notice.body.html ?? ''}`;
    expect(all).not.toMatch(/token|https?:\/\//i);
    expect(all).not.toContain(next);
    expect(all).not.toContain(p.username);
    expect(await mailbox(next)).toHaveLength(0);
  });

  it('rule 29: an unregistered record\'s old address is not written to (it may never have been the patient\'s)', async () => {
    const p = await enrolled(staff, 'R29N');
    await edit(p.patientId, { email: `moved-${p.email}` });
    expect(await mailbox(p.email)).toHaveLength(0);
  });
});
