/**
 * Patient access tokens (routes marked "patient"): verified against the patient pool's keys,
 * then against our record on every request (security rule 17): the login must still belong to
 * the record, access must be enabled, and the token's `portal_generation` claim (set by the
 * pre-token-generation trigger from the record when Cognito minted it) must be exactly the
 * record's generation now. Revoke, access off, an email change and every credential change bump
 * it, so every older token is refused at once — even one from the same second — without waiting
 * for its expiry, and the same way on cognito-local (which cannot sign users out). A token
 * without the claim (refreshed at Cognito, or minted around our sign-in) is refused.
 *
 * A proxy's login with no record of its own (issue 18, lambdas/domain/proxies.ts) has its
 * generation on its ACCOUNT# item instead; its principal names no record (`patientId` ''), and
 * every route that acts on a record asks `resolveAccess` whether this login may, now (rule 32).
 */
import { recordStore } from '../adapters/deps.ts';
import { dynamoProxies } from '../adapters/dynamo-proxies.ts';
import type { ProxyStore } from '../domain/proxies.ts';
import { config } from '../config.ts';
import { sessionStillLive } from '../domain/portal-record.ts';
import { generationClaim } from '../triggers/pre-token-generation.ts';
import { accessTokenVerifier, bearerToken } from './auth.ts';
import { unauthorized } from './problems.ts';

export interface PatientPrincipal {
  kind: 'patient';
  accountId: string;
  /** The login's own (home) record; '' for a proxy's login that has no record of its own. */
  patientId: string;
}

let proxies: ProxyStore | undefined;
const loginItems = () => (proxies ??= dynamoProxies());

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
  if (!accountId) throw refused();
  const link = await loginItems().login(accountId);
  if (link && link.patientId === undefined) {
    // A proxy-only login: its own generation, on its ACCOUNT# item (rule 17).
    const stamp = payload[generationClaim];
    // Number.isSafeInteger is false for anything that is not a number (a string, a missing claim).
    if (!Number.isSafeInteger(stamp) || stamp !== (link.generation ?? 0)) throw refused();
    return { kind: 'patient', accountId, patientId: '' };
  }
  const record = link?.patientId ? await recordStore().getRecord(link.patientId) : undefined;
  if (!record || record.accountId !== accountId || !record.accessEnabled || record.login?.mustChangePassword) throw refused();
  if (!sessionStillLive(payload[generationClaim], record)) throw refused();
  return { kind: 'patient', accountId, patientId: record.patientId };
}
