/**
 * Patient access tokens (routes marked "patient"): verified against the patient pool's keys,
 * then against our record on every request (security rule 17): the login must still belong to
 * the record, access must be enabled, and the token's sign-in must be later than the record's
 * revokedAt. So a revoke or a credential change refuses older tokens at once, without waiting
 * for their expiry, and the same way on cognito-local (which cannot sign users out).
 */
import { accountStore, recordStore } from '../adapters/deps.ts';
import { config } from '../config.ts';
import { accessTokenVerifier, bearerToken } from './auth.ts';
import { unauthorized } from './problems.ts';

export interface PatientPrincipal {
  kind: 'patient';
  accountId: string;
  patientId: string;
}

const refused = () => unauthorized('The access token is not valid, has expired or was ended. Sign in again.');

export async function authenticatePatient(authorization: string | undefined): Promise<PatientPrincipal> {
  const token = bearerToken(authorization);
  let payload: Record<string, unknown>;
  try {
    payload = await accessTokenVerifier(config().PATIENT_POOL_ID, config().PATIENT_CLIENT_ID).verify(token);
  } catch {
    throw refused();
  }
  const accountId = typeof payload.username === 'string' ? payload.username : undefined;
  const signedInAt = Number(payload.auth_time ?? payload.iat);
  if (!accountId || !Number.isFinite(signedInAt)) throw refused();
  const link = await accountStore().findByAccountId(accountId);
  const record = link ? await recordStore().getRecord(link.patientId) : undefined;
  if (!record || record.accountId !== accountId || !record.accessEnabled || record.login?.mustChangePassword) throw refused();
  if (record.revokedAt && signedInAt * 1000 < Date.parse(record.revokedAt)) throw refused();
  return { kind: 'patient', accountId, patientId: record.patientId };
}
