/**
 * The last sign-ins to a patient's login (issue 15 item 5), so they can spot someone else's:
 * read from the audit trail, where every sign-in attempt that reached the pool is already
 * written under the record (patient-sign-in.ts, rule 18: `patient.sign-in`, outcome, reason,
 * source address). Nothing new is stored. Only that action is shown: never a staff action,
 * an actor, or another field of the trail.
 */
import type { AuditEvent } from './audit.ts';
import { patientTarget } from './audit.ts';
import type { RecordStore } from './ports.ts';

export const SIGN_INS_SHOWN = 10;
/** Audit entries read at most (newest first) to find them: sign-ins are most of a login's trail. */
const READ_AT_MOST = 100;

const words: Record<string, string> = {
  tokens: 'Signed in',
  'new-password-required': 'Signed in and asked for a new password',
  'invalid-credentials': 'Wrong password',
  'too-many-attempts': 'Refused: too many tries',
  'sign-in-locked': 'Refused: sign-in locked',
  'access-disabled': 'Refused: portal access is off',
  'temporary-password-expired': 'Refused: the temporary password had expired',
};

export interface RecentSignIn {
  at: string;
  outcome: 'success' | 'failure';
  words: string;
  from: string;
}

export function describeSignIn(event: AuditEvent): RecentSignIn {
  const reason = typeof event.detail.reason === 'string' ? event.detail.reason : '';
  return {
    at: event.at,
    outcome: event.outcome,
    words: words[reason] ?? (event.outcome === 'success' ? 'Signed in' : 'Refused'),
    from: event.sourceIp,
  };
}

export async function recentSignIns(deps: { store: RecordStore }, patientId: string): Promise<RecentSignIn[]> {
  const found: RecentSignIn[] = [];
  let cursor: string | undefined;
  let read = 0;
  do {
    const page = await deps.store.listAudit(patientTarget(patientId), cursor, 50);
    read += page.items.length;
    for (const event of page.items) if (event.action === 'patient.sign-in') found.push(describeSignIn(event));
    cursor = page.cursor;
  } while (cursor && found.length < SIGN_INS_SHOWN && read < READ_AT_MOST);
  return found.slice(0, SIGN_INS_SHOWN);
}
