/**
 * Mutation-testing rules for the session checks of lambdas/domain/staff-admin.ts (issue 20):
 * rule 30 (a token counts while its record exists, is enabled and the sign-in is not older than
 * the cut-off) and the staff sign-in refusal (tokens handed out only to an enabled record).
 */
import { describe, expect, it } from 'vitest';
import { canonicalName, sessionAccepted, staffSignInRefusal, type StaffRecord } from '../../../lambdas/domain/staff-admin.ts';
import { enabledStaffRecord } from '../../support/staff-records.ts';

const jwt = (claims: unknown) => `h.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.s`;
const storeOf = (records: Record<string, StaffRecord>) => ({ getStaff: async (sub: string) => records[sub] });

describe('rule 30: a staff session is accepted', () => {
  it('with an enabled record and a sign-in at or after the cut-off', () => {
    const r = enabledStaffRecord('sub-a', { sessionsValidFrom: 1000 });
    expect(sessionAccepted(r, 1000)).toBe(true);
    expect(sessionAccepted(r, 1001)).toBe(true);
    expect(sessionAccepted(r, 999)).toBe(false);
  });

  it('never without a record, with a disabled one, or with a sign-in time that is not a number', () => {
    expect(sessionAccepted(undefined, 5000)).toBe(false);
    expect(sessionAccepted(enabledStaffRecord('sub-a', { enabled: false }), 5000)).toBe(false);
    expect(sessionAccepted(enabledStaffRecord('sub-a'), Number.NaN)).toBe(false);
    expect(sessionAccepted(enabledStaffRecord('sub-a', { sessionsValidFrom: Number.NEGATIVE_INFINITY }), Number.POSITIVE_INFINITY)).toBe(false);
  });

  it('a staff name is compared trimmed and in lower case', () => {
    expect(canonicalName('  Front.Desk ')).toBe('front.desk');
  });
});

describe('staff sign-in: tokens only for a login with an enabled record', () => {
  it('an enabled record: no refusal', async () => {
    expect(await staffSignInRefusal(storeOf({ 'sub-a': enabledStaffRecord('sub-a') }), jwt({ sub: 'sub-a' }))).toBeUndefined();
  });

  it('a disabled record, no record, a token without a string sub or not a token at all: refused with the reason', async () => {
    const store = storeOf({ 'sub-a': enabledStaffRecord('sub-a', { enabled: false }) });
    expect(await staffSignInRefusal(store, jwt({ sub: 'sub-a' }))).toBe('disabled');
    expect(await staffSignInRefusal(store, jwt({ sub: 'sub-b' }))).toBe('no-staff-record');
    expect(await staffSignInRefusal(store, jwt({ sub: 42 }))).toBe('no-staff-record');
    expect(await staffSignInRefusal(store, 'not-a-token')).toBe('no-staff-record');
    expect(await staffSignInRefusal(store, 'h.%%%.s')).toBe('no-staff-record');
  });

  it('hostile: a token whose sub is the number 42 is not the login whose sub is "42"', async () => {
    const store = storeOf({ '42': enabledStaffRecord('42') });
    expect(await staffSignInRefusal(store, jwt({ sub: '42' }))).toBeUndefined();
    expect(await staffSignInRefusal(store, jwt({ sub: 42 }))).toBe('no-staff-record');
  });
});
