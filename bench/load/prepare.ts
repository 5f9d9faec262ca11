/**
 * Data the load needs before it starts: a staff token, registered patients to sign in and ask
 * for resets (each with its own password, so sign-ins spread over many accounts and no
 * per-account counter ever moves), and a buffer of invitations ready to register.
 * Everything is made through the API, the way staff and patients would.
 */
import { randomBytes } from 'node:crypto';
import { expectStatus, mapLimit, type Call } from './client.ts';
import { staffAccessToken } from '../lib/staff-totp.ts';
import type { InvitationMailbox } from './mailbox.ts';

export interface Patient {
  patientId: string;
  email: string;
}

export interface Invitation extends Patient {
  pin: string;
  token: string;
}

export interface Registered extends Patient {
  username: string;
  password: string;
  accountId: string;
}

/** How many of the preparation calls run at once. */
const PARALLEL = 8;

/** A tag unique to this run, so ids never collide with anything else in the table. */
export const runTag = randomBytes(3).toString('hex');

export const patientFor = (kind: string, n: number): Patient => {
  const patientId = `LD-${runTag}-${kind}-${n}`;
  return { patientId, email: `${patientId.toLowerCase()}@load.example.test` };
};

export const usernameFor = (kind: string, n: number): string => `ld.${runTag}.${kind}${n}`;

/** Random, 22 characters: long enough for the policy and never on a blocklist. */
export const newPassword = (): string => randomBytes(16).toString('base64url');

/** Password then TOTP (bench/lib/staff-totp.ts). */
export async function staffToken(call: Call, staff: { username: string; password: string; totpSecret: string }): Promise<string> {
  return staffAccessToken((path, body) => call('POST', path, { body }), staff);
}

/** `count` records with an email, each invited; their links come from the mailbox. */
export async function invitations(call: Call, mailbox: InvitationMailbox, token: string, kind: string, count: number): Promise<Invitation[]> {
  const patients = Array.from({ length: count }, (_, n) => patientFor(kind, n));
  const pins = await mapLimit(patients, PARALLEL, async (p) => {
    await expectStatus('create record', 200, call('PUT', `/patients/${p.patientId}/portal`, { token, body: { email: p.email, cases: ['LOAD-1'] } }));
    const json = await expectStatus('invite', 201, call('POST', `/patients/${p.patientId}/portal/invitation`, { token }));
    return json.pin as string;
  });
  const tokens = new Map<string, string>();
  for (let attempt = 0; attempt < 20 && tokens.size < count; attempt++) {
    for (const mail of await mailbox.poll()) tokens.set(mail.to, mail.token);
    if (tokens.size < count) await new Promise((r) => setTimeout(r, 250));
  }
  return patients.map((p, i) => {
    const link = tokens.get(p.email);
    if (!link) throw new Error(`no invitation email arrived for ${p.patientId}`);
    return { ...p, pin: pins[i]!, token: link };
  });
}

/** `count` patients registered through their invitations, each with its own password. */
export async function registeredPatients(call: Call, mailbox: InvitationMailbox, token: string, count: number): Promise<Registered[]> {
  const invited = await invitations(call, mailbox, token, 'acct', count);
  return mapLimit(invited, PARALLEL, async (inv, n) => {
    const username = usernameFor('acct', n);
    const password = newPassword();
    const json = await expectStatus('register', 201, call('POST', '/registrations', { body: { token: inv.token, pin: inv.pin, username, password } }));
    return { patientId: inv.patientId, email: inv.email, username, password, accountId: json.accountId as string };
  });
}
