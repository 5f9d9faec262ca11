/**
 * Lost writes: after the load, every write the API confirmed must be there.
 * - every record PUT answered 200 is readable with the email it set;
 * - every invitation answered 201 shows on its record: still pending, or accepted by the
 *   registration the load made for it;
 * - every registration answered 201 shows Normal Registration with its accountId, and its
 *   username and password sign in (POST /sessions 200 with tokens).
 * Returns one line per problem (patient ids only: no email, username, password, PIN or token).
 */
import { mapLimit, type Call } from './client.ts';
import type { Ledger } from './ledger.ts';

const PARALLEL = 8;

interface RecordView {
  email?: string;
  accountId?: string;
  registration: string;
  invite: { status: string };
  statusMessage: string;
}

export interface Verification {
  recordsChecked: number;
  invitationsChecked: number;
  registrationsChecked: number;
  problems: string[];
}

export async function verifyWrites(call: Call, staffToken: string, ledger: Ledger): Promise<Verification> {
  const problems: string[] = [];
  const patientIds = [...new Set([...ledger.records.keys(), ...ledger.invitations])];

  await mapLimit(patientIds, PARALLEL, async (patientId) => {
    const res = await call<RecordView>('GET', `/patients/${patientId}/portal`, { token: staffToken });
    if (res.status !== 200) return void problems.push(`${patientId}: GET record answered ${res.status}`);
    const record = res.json;
    const email = ledger.records.get(patientId);
    if (email !== undefined && record.email !== email) problems.push(`${patientId}: the record lost the email its PUT set`);
    if (!ledger.invitations.has(patientId)) return;
    const registered = ledger.registrations.get(patientId);
    if (registered) {
      if (record.registration !== 'NormalRegistration' || record.accountId !== registered.accountId || record.invite.status !== 'Accepted') {
        problems.push(`${patientId}: registered (201) but the record shows "${record.statusMessage}", invite ${record.invite.status}`);
      }
    } else if (!ledger.registrationsUnconfirmed.has(patientId) && (record.invite.status !== 'Pending' || record.registration !== 'NotRegistered')) {
      // An unconfirmed registration may or may not have landed; it already failed the run.
      problems.push(`${patientId}: invited (201) but the invitation is ${record.invite.status}, not Pending`);
    }
  });

  const registrations = [...ledger.registrations.values()];
  await mapLimit(registrations, PARALLEL, async (r) => {
    const res = await call('POST', '/sessions', { body: { username: r.username, password: r.password } });
    if (res.status !== 200 || typeof res.json.accessToken !== 'string') {
      problems.push(`${r.patientId}: registered (201) but its sign-in answered ${res.status}${res.json.challenge ? ` (${String(res.json.challenge)})` : ''}`);
    }
  });

  return {
    recordsChecked: patientIds.length,
    invitationsChecked: ledger.invitations.size,
    registrationsChecked: registrations.length,
    problems,
  };
}
