/**
 * Patients in known states on the shared local stack, for the rule, race and equal-response
 * files: each helper makes a fresh record with a unique id and address, so tests never share one.
 */
import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import { api, mailbox, stack } from './stack.ts';
import { staffAccessTokens } from './staff-session.ts';

export interface StaffTokens {
  admin: string;
  staff: string;
}

/** Signs the seeded admin and staff in, and gives the staff user the invite permission back. */
export async function staffTokens(): Promise<StaffTokens> {
  const { admin, staff } = await staffAccessTokens();
  expect(admin).toBeTruthy();
  expect(staff).toBeTruthy();
  // Other files change staff permissions on the shared stack: start from known ones.
  await api(`/staff/${stack().staff.username}/permissions`, { method: 'PUT', token: admin, body: { canInvite: true } });
  return { admin, staff };
}

export const uniqueId = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;
export const newUsername = () => `pat-${randomUUID().slice(0, 8)}`;

export const signIn = (username: string, password: string) => api('/sessions', { method: 'POST', body: { username, password } });
export const register = (body: Record<string, unknown>) => api('/registrations', { method: 'POST', body });
export const checkLink = (token: string) => api(`/invitations/${token}`);
export const requestReset = (username: string) => api('/credential-resets', { method: 'POST', body: { username } });
export const confirmReset = (body: Record<string, unknown>) => api('/credential-resets/confirm', { method: 'POST', body });
export const anotherPin = (pin: string) => (pin === '222222' ? '333333' : '222222');

/** A fresh record with an email unique to it. */
export async function enrolled(staff: string, prefix: string, body: Record<string, unknown> = {}) {
  const patientId = uniqueId(prefix);
  const email = `${patientId.toLowerCase()}@example.test`;
  const res = await api(`/patients/${patientId}/portal`, { method: 'PUT', token: staff, body: { email, cases: ['C-1'], ...body } });
  expect(res.status).toBe(200);
  return { patientId, email };
}

/** The token of the link in the newest email to `email` that holds `path` (e.g. /portal/register). */
export async function linkToken(email: string, path: string): Promise<string> {
  const pattern = new RegExp(`${path.replace(/[/?]/g, '\\$&')}\\?token=([A-Za-z0-9_-]+)`);
  const mails = (await mailbox(email)).filter((m) => pattern.test(m.body.text ?? ''));
  const token = pattern.exec(mails.at(-1)?.body.text ?? '')?.[1];
  if (!token) throw new Error(`no ${path} link in the email to ${email}`);
  return token;
}

/** Every link token of `path` emailed to `email`, oldest first. */
export async function allLinkTokens(email: string, path: string): Promise<string[]> {
  const pattern = new RegExp(`${path.replace(/[/?]/g, '\\$&')}\\?token=([A-Za-z0-9_-]+)`);
  return (await mailbox(email)).flatMap((m) => pattern.exec(m.body.text ?? '')?.[1] ?? []);
}

/** An invited record: its PIN (as staff were told) and the link token from its email. */
export async function invited(staff: string, prefix: string) {
  const p = await enrolled(staff, prefix);
  const res = await api(`/patients/${p.patientId}/portal/invitation`, { method: 'POST', token: staff });
  expect(res.status).toBe(201);
  return { ...p, pin: res.json.pin as string, token: await linkToken(p.email, '/portal/register') };
}

export const firstPassword = 'lantern orchard pebble violin';
export const secondPassword = 'quartz meadow harbor kettle';

/** A registered patient (Register Patient, then the new-password step) with `firstPassword`. */
export async function registered(staff: string, prefix: string, body: Record<string, unknown> = {}) {
  const p = await enrolled(staff, prefix, body);
  const reg = await api(`/patients/${p.patientId}/portal/registration`, { method: 'POST', token: staff });
  expect(reg.status).toBe(201);
  const challenge = await signIn(reg.json.username, reg.json.temporaryPassword);
  expect(challenge.json.challenge).toBe('NEW_PASSWORD_REQUIRED');
  const done = await api('/sessions/new-password', { method: 'POST', body: { session: challenge.json.session, newPassword: firstPassword } });
  expect(done.status).toBe(200);
  return { ...p, username: reg.json.username as string, tokens: done.json as { accessToken: string; idToken: string; refreshToken: string; expiresIn: number } };
}

/** The token and PIN of the newest reset email to `email`. */
export async function resetMail(email: string) {
  const mails = (await mailbox(email)).filter((m) => /Reset your/.test(m.subject));
  const text = mails.at(-1)?.body.text ?? '';
  const token = /\/portal\/reset\?token=([A-Za-z0-9_-]+)/.exec(text)?.[1];
  const pin = /PIN: ([A-Z0-9]{6})/.exec(text)?.[1];
  if (!token || !pin) throw new Error(`no reset email to ${email}`);
  return { token, pin, count: mails.length };
}

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/**
 * A test-clock offset that puts the handlers `windows` 15-minute windows ahead, a second after
 * a window starts, so per-address counters start from nothing and no window ends mid-test.
 */
export function freshWindowOffset(windows: number): number {
  const w = 15 * 60_000;
  const now = Date.now();
  return (Math.floor(now / w) + windows) * w - now + 1000;
}
