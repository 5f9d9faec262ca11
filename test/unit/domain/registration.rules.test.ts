/**
 * Mutation-testing rules for lambdas/domain/registration.ts (issue 20), the cases the flows tests
 * did not reach: a username another patient holds never makes a Cognito login (even when a
 * removal would have failed), the commit links the new login to its patient (the sign-in finds
 * the patient by it), and the practice is told which notice it is.
 */
import { describe, expect, it } from 'vitest';
import { sendInvitation } from '../../../lambdas/domain/invitations.ts';
import type { PracticeNoticeKind } from '../../../lambdas/domain/practice-notices.ts';
import { register, type RegistrationAttempt } from '../../../lambdas/domain/registration.ts';
import { goodPassword, harness, staff, code } from './invitation-harness.ts';

const ip = '198.51.100.1';

async function invited(h = harness()) {
  await h.seed('P-1');
  const { pin } = await sendInvitation(h.deps, staff, 'P-1');
  const attempt: RegistrationAttempt = { token: h.tokenFor('p-1@example.test'), pin, username: 'pat.one', password: goodPassword, sourceIp: ip };
  return { h, attempt };
}

describe('rule 25: a username another patient holds', () => {
  it('is 409 username-taken before any login is made: none is left even when a removal would fail; the link still works', async () => {
    const { h, attempt } = await invited();
    h.inv.usernames.set('taken.name', { accountId: 'acct-9', patientId: 'P-9' });
    h.pool.failOnce.add('remove');
    expect(await code(register(h.reg, { ...attempt, username: 'Taken.Name' }))).toBe('conflict:username-taken');
    expect(h.pool.users.size).toBe(0);
    expect(h.record('P-1')!.accountId).toBeUndefined();
    h.pool.failOnce.clear();
    expect(await code(register(h.reg, attempt))).toBe('ok');
  });
});

describe('the commit', () => {
  it('links the new login to its patient', async () => {
    const { h, attempt } = await invited();
    const { accountId } = await register(h.reg, attempt);
    expect(h.accountLinks.get(accountId)).toEqual({ accountId, patientId: 'P-1' });
  });

  it('tells the practice a patient registered (issue 19), once, after the commit', async () => {
    const { h, attempt } = await invited();
    const told: { kind: PracticeNoticeKind; registered: boolean }[] = [];
    const reg = { ...h.reg, notify: async (kind: PracticeNoticeKind) => void told.push({ kind, registered: h.record('P-1')!.accountId !== undefined }) };
    await register(reg, attempt);
    expect(told).toEqual([{ kind: 'patient-registered', registered: true }]);
  });
});
