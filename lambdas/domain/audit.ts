/**
 * Audit events (security rule 18): who did what to which target, when, from where, and how it
 * ended. `detail` holds field names and outcomes only, never a PHI value or a secret.
 */
export interface AuditEvent {
  /** The audited thing: `patient:<id>`, `settings`, `staff:<id>`. */
  target: string;
  at: string;
  actor: string;
  action: string;
  outcome: 'success' | 'failure';
  sourceIp: string;
  detail: Record<string, string | number | boolean | string[]>;
}

export const patientTarget = (patientId: string) => `patient:${patientId}`;
export const staffTarget = (staffId: string) => `staff:${staffId}`;
export const settingsTarget = 'settings';

export interface Actor {
  id: string;
  sourceIp: string;
  /**
   * A signed-in staff caller: their permanent id (the token's `sub`) and, from their staff record
   * read with the token on this request (lambdas/http/auth.ts), their roles and permissions.
   */
  staff?: { sub: string; roles: readonly string[]; permissions: { canInvite: boolean; autoInvite: boolean } };
}

export function auditEvent(
  actor: Actor,
  target: string,
  action: string,
  at: Date,
  detail: AuditEvent['detail'] = {},
  outcome: AuditEvent['outcome'] = 'success',
): AuditEvent {
  return { target, at: at.toISOString(), actor: actor.id, action, outcome, sourceIp: actor.sourceIp, detail };
}
