/**
 * Rule 18: every audit entry names the actor id, the action, the target, the UTC time, the source
 * address and the outcome; the targets are spelled one way so a trail can be read back by target.
 */
import { describe, expect, it } from 'vitest';
import { auditEvent, patientTarget, settingsTarget, staffTarget } from '../../../lambdas/domain/audit.ts';

describe('audit events (rule 18)', () => {
  const actor = { id: 'frontdesk', sourceIp: '198.51.100.4', staff: { sub: 's-1', roles: ['staff'], permissions: { canInvite: true, autoInvite: false } } };
  const at = new Date('2026-11-21T10:00:00.000Z');

  it('actor id, action, target, UTC time, source address, outcome and detail; success unless told', () => {
    expect(auditEvent(actor, patientTarget('P-1'), 'invitation.sent', at, { delivery: 'Sent' })).toEqual({
      target: 'patient:P-1',
      at: '2026-11-21T10:00:00.000Z',
      actor: 'frontdesk',
      action: 'invitation.sent',
      outcome: 'success',
      sourceIp: '198.51.100.4',
      detail: { delivery: 'Sent' },
    });
    expect(auditEvent(actor, staffTarget('s-9'), 'staff.disabled', at, {}, 'failure')).toMatchObject({ target: 'staff:s-9', outcome: 'failure' });
    expect(auditEvent(actor, settingsTarget, 'settings.updated', at)).toMatchObject({ target: 'settings', detail: {}, outcome: 'success' });
  });

  it('the entry holds the actor id only: never the staff record (roles, permissions, sub) it came with', () => {
    const event = auditEvent(actor, patientTarget('P-1'), 'x', at);
    expect(Object.keys(event).sort()).toEqual(['action', 'actor', 'at', 'detail', 'outcome', 'sourceIp', 'target']);
    expect(JSON.stringify(event)).not.toContain('s-1');
  });
});
