import { describe, expect, it } from 'vitest';
import { DomainError } from '../../../lambdas/domain/errors.ts';
import { passwordRefusedByPool } from '../../../lambdas/domain/password-policy.ts';
import { cancelInvitation, resendInvitation, sendInvitation } from '../../../lambdas/domain/invitations.ts';
import { checkInvitation, register, type RegistrationAttempt } from '../../../lambdas/domain/registration.ts';
import { DAY, goodPassword, harness, staff } from './invitation-harness.ts';

const failure = async (p: Promise<unknown>): Promise<DomainError | 'ok'> => {
  try {
    await p;
    return 'ok';
  } catch (err) {
    if (err instanceof DomainError) return err;
    throw err;
  }
};
const code = async (p: Promise<unknown>) => {
  const f = await failure(p);
  return f === 'ok' ? 'ok' : `${f.kind}:${f.code}`;
};

/** A record P-1 with a pending invitation; the attempt the patient would make. */
async function invited(h = harness()) {
  await h.seed('P-1');
  const { pin, expiresAt } = await sendInvitation(h.deps, staff, 'P-1');
  const token = h.tokenFor('p-1@example.test');
  const attempt: RegistrationAttempt = { token, pin, username: 'pat.one', password: goodPassword, sourceIp: '198.51.100.1' };
  return { h, pin, token, expiresAt, attempt };
}

describe('checking a link', () => {
  it('answers the practice name, the expiry and that a PIN is needed', async () => {
    const { h, token, expiresAt } = await invited();
    expect(await checkInvitation(h.reg, token, '198.51.100.1')).toEqual({ practiceName: 'Maple & Oak <Clinic>', expiresAt, needs: ['pin'], kind: 'patient' });
  });

  it('rule 11: expired, cancelled, used, locked and unknown links all get the same error', async () => {
    const errors: DomainError[] = [];
    const take = async (p: Promise<unknown>) => {
      const f = await failure(p);
      if (f === 'ok') throw new Error('expected a refusal');
      errors.push(f);
    };
    // expired
    {
      const { h, token } = await invited();
      h.advance(14 * DAY + 1);
      await take(checkInvitation(h.reg, token, '198.51.100.1'));
    }
    // cancelled
    {
      const { h, token } = await invited();
      await cancelInvitation(h.deps, staff, 'P-1');
      await take(checkInvitation(h.reg, token, '198.51.100.1'));
    }
    // used
    {
      const { h, token, attempt } = await invited();
      await register(h.reg, attempt);
      await take(checkInvitation(h.reg, token, '198.51.100.1'));
    }
    // locked
    {
      const { h, token, attempt } = await invited();
      for (let i = 0; i < 5; i++) await failure(register(h.reg, { ...attempt, pin: 'WRONG2' }));
      await take(checkInvitation(h.reg, token, '198.51.100.1'));
    }
    // unknown
    {
      const { h } = await invited();
      await take(checkInvitation(h.reg, 'x'.repeat(43), '198.51.100.1'));
    }
    expect(errors).toHaveLength(5);
    for (const e of errors) {
      expect({ kind: e.kind, code: e.code, message: e.message, extra: e.extra }).toEqual({
        kind: errors[0]!.kind,
        code: errors[0]!.code,
        message: errors[0]!.message,
        extra: errors[0]!.extra,
      });
    }
    expect(errors[0]!.kind).toBe('gone');
  });

  it('rule 9: a token works for its own invitation only, even when the other patient has one too', async () => {
    const { h, token } = await invited();
    await h.seed('P-2');
    await sendInvitation(h.deps, staff, 'P-2');
    // A link item pointing at the wrong patient (as if forged) is refused: the hash must match that invitation's own.
    const link = h.inv.links.get([...h.inv.links.keys()].find((k) => h.inv.links.get(k)!.patientId === 'P-1')!)!;
    h.inv.links.set(link.tokenHash, { ...link, patientId: 'P-2' });
    expect(await code(checkInvitation(h.reg, token, '198.51.100.1'))).toBe('gone:invitation-gone');
  });
});

describe('revoke (done by patient-access.ts on the record alone)', () => {
  it('rule 17: a revoke kills the pending link and PIN, and they stay dead when access is enabled again; a new invitation works', async () => {
    const { h, token, attempt } = await invited();
    const revoke = async (change: (r: import('../../../lambdas/domain/portal-record.ts').StoredRecord) => void) => {
      const r = structuredClone(h.record('P-1')!);
      const version = r.version;
      change(r);
      r.version = version + 1;
      await h.mem.store.saveRecord(r, version, { target: 'patient:P-1', at: '', actor: 'admin', action: 'x', outcome: 'success', sourceIp: '', detail: {} });
    };
    await revoke((r) => {
      r.accessEnabled = false;
      r.invite = { ...r.invite, status: 'Cancelled' };
    });
    expect(await code(checkInvitation(h.reg, token, '198.51.100.1'))).toBe('gone:invitation-gone');
    await revoke((r) => {
      r.accessEnabled = true;
    });
    expect(await code(checkInvitation(h.reg, token, '198.51.100.1'))).toBe('gone:invitation-gone');
    expect(await code(register(h.reg, attempt))).toBe('gone:invitation-gone');
    expect(await code(resendInvitation(h.deps, staff, 'P-1'))).toBe('not-found:no-pending-invitation');
    const fresh = await sendInvitation(h.deps, staff, 'P-1');
    expect((await register(h.reg, { ...attempt, token: h.tokenFor('p-1@example.test'), pin: fresh.pin })).username).toBe('pat.one');
  });
});

describe('registering', () => {
  it('creates the login under a new accountId, registers the record and kills the link', async () => {
    const { h, token, attempt } = await invited();
    const out = await register(h.reg, { ...attempt, pin: attempt.pin!.toLowerCase().replace(/^(...)/, '$1-') });
    expect(out.username).toBe('pat.one');
    expect(out.accountId).toMatch(/^[0-9a-f-]{36}$/);
    expect(h.pool.users.get(out.accountId)).toBe(goodPassword);
    expect(h.pool.users.size).toBe(1);
    const record = h.record('P-1')!;
    expect(record).toMatchObject({ accountId: out.accountId, username: 'pat.one', registration: 'NormalRegistration', invite: { status: 'Accepted' } });
    expect(h.inv.usernames.get('pat.one')).toEqual({ accountId: out.accountId, patientId: 'P-1' });
    expect(h.inv.links.size).toBe(0);
    expect(h.inv.invitations.get('P-1')).toMatchObject({ status: 'Used' });
    expect(h.inv.invitations.get('P-1')!.secrets).toBeUndefined();
    expect(await code(register(h.reg, attempt))).toBe('gone:invitation-gone');
    expect(await code(checkInvitation(h.reg, token, '198.51.100.1'))).toBe('gone:invitation-gone');
    const audit = h.mem.audit.at(-1)!;
    expect(audit).toMatchObject({ action: 'registration.completed', actor: out.accountId, target: 'patient:P-1', outcome: 'success', sourceIp: '198.51.100.1' });
    expect(JSON.stringify(h.mem.audit)).not.toMatch(new RegExp(`${goodPassword}|${attempt.pin}|${token}`));
  });

  it('rule 7: a wrong PIN is 401 and counts; the 5th locks the invitation, and then the right PIN gets 410', async () => {
    const { h, attempt } = await invited();
    const answers: string[] = [];
    for (let i = 0; i < 5; i++) answers.push(await code(register(h.reg, { ...attempt, pin: 'WRONG2' })));
    expect(answers).toEqual(Array(5).fill('unauthorized:wrong-pin'));
    expect(h.inv.invitations.get('P-1')).toMatchObject({ status: 'Locked', failures: 5 });
    expect(h.record('P-1')!.invite.status).toBe('Locked');
    expect(h.inv.links.size).toBe(0);
    expect(await code(register(h.reg, attempt))).toBe('gone:invitation-gone');
    expect(h.pool.users.size).toBe(0);
    expect(h.mem.audit.filter((a) => a.action === 'registration.wrong-pin' && a.outcome === 'failure')).toHaveLength(5);
    expect(h.mem.audit.some((a) => a.action === 'invitation.locked')).toBe(true);

    // Staff resend: a new link, the same PIN, the counter back to 0.
    await resendInvitation(h.deps, staff, 'P-1');
    const out = await register(h.reg, { ...attempt, token: h.tokenFor('p-1@example.test') });
    expect(out.username).toBe('pat.one');
  });

  it('rule 7: concurrent wrong PINs are all counted, and the link is dead after the 5th', async () => {
    const { h, attempt } = await invited();
    // One write takes the lease and the try (issue 16): a burst gets one compare at a time and
    // "in progress" for the rest, never a compare that is not counted. Bursts until it locks.
    const answers: string[] = [];
    for (let burst = 0; burst < 20 && h.inv.invitations.get('P-1')!.status === 'Pending'; burst++) {
      answers.push(...(await Promise.all(Array.from({ length: 8 }, () => code(register(h.reg, { ...attempt, pin: 'WRONG2' }))))));
    }
    for (const a of answers) expect(['unauthorized:wrong-pin', 'conflict:registration-in-progress', 'gone:invitation-gone']).toContain(a);
    expect(answers.filter((a) => a === 'unauthorized:wrong-pin')).toHaveLength(5);
    expect(h.inv.invitations.get('P-1')!.failures).toBe(5);
    expect(h.inv.invitations.get('P-1')!.status).toBe('Locked');
    expect(await code(register(h.reg, attempt))).toBe('gone:invitation-gone');
  });

  it('rule 5: the try is reserved before the PIN is compared: 20 wrong PINs at once get at most 5 comparisons', async () => {
    const { h, attempt } = await invited();
    const open = h.reg.vault.open.bind(h.reg.vault);
    let compared = 0;
    h.reg.vault = { ...h.reg.vault, open: async (sealed, ctx) => ((compared += 1), open(sealed, ctx)) };
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => code(register(h.reg, { ...attempt, pin: `WRONG${i}` }))));
    expect(compared).toBeLessThanOrEqual(5);
    expect(answers.filter((a) => a === 'unauthorized:wrong-pin').length).toBeLessThanOrEqual(5);
    for (const a of answers) expect(['unauthorized:wrong-pin', 'conflict:registration-in-progress', 'gone:invitation-gone']).toContain(a);
    // Every compare was counted (the lease and the try are one write, issue 16); 5 lock the link.
    expect(h.inv.invitations.get('P-1')!.failures).toBe(compared);
    expect(h.inv.invitations.get('P-1')!.status).toBe(compared === 5 ? 'Locked' : 'Pending');
    expect(h.inv.invitations.get('P-1')!.tries).toBe(compared);
  });

  it('rule 5: a right PIN gives its try back (a weak password after it costs nothing); 4 wrong then the right one still registers', async () => {
    const { h, attempt } = await invited();
    for (let i = 0; i < 3; i++) expect(await code(register(h.reg, { ...attempt, password: 'short' }))).toBe('bad-request:validation-error');
    expect(h.inv.invitations.get('P-1')).toMatchObject({ tries: 0, failures: 0 });
    for (let i = 0; i < 4; i++) expect(await code(register(h.reg, { ...attempt, pin: 'WRONG2' }))).toBe('unauthorized:wrong-pin');
    expect(await code(register(h.reg, attempt))).toBe('ok');
  });

  it('rule 5 (issue 16): the lease and the try are one write; a wrong PIN keeps its try spent and lets go of the lease in its count', async () => {
    const { h, attempt } = await invited();
    expect(await code(register(h.reg, { ...attempt, pin: 'WRONG2' }))).toBe('unauthorized:wrong-pin');
    const after = h.inv.invitations.get('P-1')!;
    expect(after).toMatchObject({ status: 'Pending', failures: 1, tries: 1 });
    expect(after.lease).toBeUndefined();
    // Not "in progress": the next attempt gets its own lease at once.
    expect(await code(register(h.reg, attempt))).toBe('ok');
  });

  it('rule 24 (issue 16): the lease-and-try write done but its answer lost: both are given back, the retry registers', async () => {
    const { h, attempt } = await invited();
    const links = h.reg.invitations;
    let lose = true;
    h.reg.invitations = Object.assign(Object.create(links) as typeof links, {
      takeLease: async (...args: Parameters<typeof links.takeLease>) => {
        const out = await links.takeLease(...args);
        if (lose) {
          lose = false;
          throw new Error('answer lost');
        }
        return out;
      },
    });
    await expect(register(h.reg, attempt)).rejects.toThrow('answer lost');
    const after = h.inv.invitations.get('P-1')!;
    expect(after).toMatchObject({ status: 'Pending', failures: 0, tries: 0 });
    expect(after.lease).toBeUndefined();
    expect(await code(register(h.reg, attempt))).toBe('ok');
  });

  it('rule 3: a weak password is 400 with the reason in words, and the invitation still works', async () => {
    const { h, attempt } = await invited();
    const short = await failure(register(h.reg, { ...attempt, password: 'short' }));
    expect(short).toMatchObject({ kind: 'bad-request', extra: { errors: expect.arrayContaining([{ path: 'body.password', message: expect.stringContaining('at least 15') }]) } });
    const common = await failure(register(h.reg, { ...attempt, password: 'passwordpassword' }));
    expect(common).toMatchObject({ kind: 'bad-request' });
    const withName = await failure(register(h.reg, { ...attempt, password: 'my name is pat.one and that is that' }));
    expect((withName as DomainError).extra.errors?.[0]?.message).toMatch(/username/);
    const withEmail = await failure(register(h.reg, { ...attempt, username: 'someone', password: 'p-1@example.test is my long email' }));
    expect((withEmail as DomainError).extra.errors?.map((e) => e.message).join()).toMatch(/email/);
    expect(h.pool.users.size).toBe(0);
    expect((await register(h.reg, attempt)).username).toBe('pat.one');
  });

  it('a username another patient holds is 409 without consuming the invitation', async () => {
    const { h, attempt } = await invited();
    h.inv.usernames.set('pat.one', { accountId: 'someone-else', patientId: 'P-9' });
    expect(await code(register(h.reg, { ...attempt, username: 'Pat.One' }))).toBe('conflict:username-taken');
    expect(h.inv.invitations.get('P-1')).toMatchObject({ status: 'Pending', failures: 0 });
    expect(h.pool.users.size).toBe(0);
    expect((await register(h.reg, { ...attempt, username: 'pat.two' })).username).toBe('pat.two');
  });

  it('a username taken between the first look and the final write: 409, no login left behind, the invitation still works', async () => {
    const { h, attempt } = await invited();
    const upsert = h.reg.logins.upsert;
    h.reg.logins = {
      ...h.reg.logins,
      upsert: async (id, pw) => {
        h.inv.usernames.set('pat.one', { accountId: 'quicker', patientId: 'P-8' });
        return upsert(id, pw);
      },
    };
    expect(await code(register(h.reg, attempt))).toBe('conflict:username-taken');
    expect(h.pool.users.size).toBe(0);
    expect(h.inv.invitations.get('P-1')!.lease).toBeUndefined();
    h.reg.logins = { ...h.reg.logins, upsert };
    expect((await register(h.reg, { ...attempt, username: 'pat.three' })).username).toBe('pat.three');
  });

  it("rule 31: our rules refuse a password with a space at either end (Cognito would); a pool refusal anyway is the same 400 naming body.password, and the link still works", async () => {
    const { h, attempt } = await invited();
    const spaced = await failure(register(h.reg, { ...attempt, password: ` ${goodPassword}` }));
    expect(spaced).toMatchObject({ kind: 'bad-request', code: 'validation-error', extra: { errors: [{ path: 'body.password', message: 'must not begin or end with a space' }] } });
    const upsert = h.reg.logins.upsert;
    h.reg.logins = { ...h.reg.logins, upsert: async () => Promise.reject(passwordRefusedByPool()) };
    const refused = await failure(register(h.reg, attempt));
    expect(refused).toMatchObject({ kind: 'bad-request', code: 'validation-error', extra: { errors: [{ path: 'body.password' }] } });
    expect(h.pool.users.size).toBe(0);
    expect(h.inv.invitations.get('P-1')).toMatchObject({ status: 'Pending' });
    expect(h.inv.invitations.get('P-1')!.lease).toBeUndefined();
    h.reg.logins = { ...h.reg.logins, upsert };
    expect(await code(register(h.reg, attempt))).toBe('ok');
  });

  it('rule 25: 20 concurrent registrations with the right token and PIN: exactly one succeeds, one login exists', async () => {
    const { h, attempt } = await invited();
    const results = await Promise.all(Array.from({ length: 20 }, () => code(register(h.reg, attempt))));
    expect(results.filter((r) => r === 'ok')).toHaveLength(1);
    for (const r of results.filter((x) => x !== 'ok')) expect(['gone:invitation-gone', 'conflict:registration-in-progress']).toContain(r);
    expect(h.pool.users.size).toBe(1);
    expect(h.record('P-1')!.registration).toBe('NormalRegistration');
  });

  it('staff cancelling while a registration is under way: the registration gets 410 and its login is removed', async () => {
    const { h, attempt } = await invited();
    const upsert = h.reg.logins.upsert;
    h.reg.logins = {
      ...h.reg.logins,
      upsert: async (id, pw) => {
        const created = await upsert(id, pw);
        await cancelInvitation(h.deps, staff, 'P-1');
        return created;
      },
    };
    expect(await code(register(h.reg, attempt))).toBe('gone:invitation-gone');
    expect(h.pool.users.size).toBe(0);
    expect(h.record('P-1')).toMatchObject({ registration: 'NotRegistered', invite: { status: 'Cancelled' } });
    expect(h.record('P-1')!.accountId).toBeUndefined();
  });
});

describe('rule 24: each backend call failing in turn, then a retry of the same request', () => {
  it('Cognito fails after the invitation is leased: the retry completes with the same accountId, one login', async () => {
    const { h, attempt } = await invited();
    h.pool.failOnce.add('upsert');
    await expect(register(h.reg, attempt)).rejects.toThrow();
    expect(h.pool.users.size).toBe(0);
    expect(h.inv.invitations.get('P-1')).toMatchObject({ status: 'Pending' });
    const pendingAccount = h.inv.invitations.get('P-1')!.accountId;
    const out = await register(h.reg, attempt);
    expect(out.accountId).toBe(pendingAccount);
    expect([...h.pool.users.keys()]).toEqual([out.accountId]);
    expect(h.record('P-1')!.accountId).toBe(out.accountId);
  });

  it('DynamoDB fails after the Cognito user is created: no burned invitation, the retry completes, no second login', async () => {
    const { h, attempt } = await invited();
    h.inv.failOnce.add('complete');
    await expect(register(h.reg, attempt)).rejects.toThrow();
    expect(h.pool.users.size).toBe(1);
    expect(h.record('P-1')!.registration).toBe('NotRegistered');
    expect(h.inv.invitations.get('P-1')!.status).toBe('Pending');
    const out = await register(h.reg, attempt);
    expect([...h.pool.users.keys()]).toEqual([out.accountId]);
    expect(h.record('P-1')).toMatchObject({ accountId: out.accountId, registration: 'NormalRegistration' });
  });

  it('both the final write and the lease release fail (a crash): the lease runs out and the retry completes', async () => {
    const { h, attempt } = await invited();
    h.inv.failOnce.add('complete');
    h.inv.failOnce.add('releaseLease');
    await expect(register(h.reg, attempt)).rejects.toThrow();
    expect(await code(register(h.reg, attempt))).toBe('conflict:registration-in-progress');
    h.advance(31_000);
    const out = await register(h.reg, attempt);
    expect(h.pool.users.size).toBe(1);
    expect(h.record('P-1')!.accountId).toBe(out.accountId);
  });

  it('the lease write fails: nothing changed, the retry completes', async () => {
    const { h, attempt } = await invited();
    h.inv.failOnce.add('takeLease');
    await expect(register(h.reg, attempt)).rejects.toThrow();
    expect(h.pool.users.size).toBe(0);
    expect((await register(h.reg, attempt)).username).toBe('pat.one');
  });

  it('the wrong-PIN counter fails: the answer is an error (never a success), the throttle counted it, and the next wrong PIN counts', async () => {
    const { h, attempt } = await invited();
    h.inv.failOnce.add('countFailure');
    await expect(register(h.reg, { ...attempt, pin: 'WRONG2' })).rejects.toThrow();
    expect(await code(register(h.reg, { ...attempt, pin: 'WRONG2' }))).toBe('unauthorized:wrong-pin');
    expect(h.inv.invitations.get('P-1')!.failures).toBe(1);
  });

  it('the invitation write fails when inviting: no link, no email, the retry works', async () => {
    const h = harness();
    await h.seed('P-1');
    h.inv.failOnce.add('write');
    await expect(sendInvitation(h.deps, staff, 'P-1')).rejects.toThrow();
    expect(h.mail.sent).toHaveLength(0);
    expect(h.inv.links.size).toBe(0);
    expect(h.record('P-1')!.invite.status).toBe('None');
    const out = await sendInvitation(h.deps, staff, 'P-1');
    expect(out.delivery).toBe('Sent');
  });
});

describe('guessing limits', () => {
  it('rule 6: dead links count per source address; past the limit the answer is 429 with Retry-After', async () => {
    const { h, token } = await invited();
    let last: DomainError | 'ok' = 'ok';
    for (let i = 0; i < 101; i++) last = await failure(checkInvitation(h.reg, `unknown-${i}-${'x'.repeat(30)}`, '192.0.2.50'));
    expect(last).toMatchObject({ kind: 'too-many-requests' });
    expect((last as DomainError).extra.retryAfterSeconds).toBeGreaterThan(0);
    // Another address is not affected.
    expect(await code(checkInvitation(h.reg, token, '192.0.2.51'))).toBe('ok');
  });

  it('rule 11: a used link keeps answering the same 410 however often it is opened (no per-link 429)', async () => {
    const { h, token, attempt } = await invited();
    await register(h.reg, attempt);
    const answers = new Set<string>();
    for (let i = 0; i < 12; i++) answers.add(await code(checkInvitation(h.reg, token, '198.51.100.1')));
    expect([...answers]).toEqual(['gone:invitation-gone']);
  });

  it('rule 7: wrong PINs are limited per link as well: the 6th attempt after a resend (same PIN, new link) starts afresh', async () => {
    const { h, attempt } = await invited();
    for (let i = 0; i < 4; i++) await failure(register(h.reg, { ...attempt, pin: 'WRONG2' }));
    await resendInvitation(h.deps, staff, 'P-1');
    const token = h.tokenFor('p-1@example.test');
    expect(await code(register(h.reg, { ...attempt, token, pin: 'WRONG2' }))).toBe('unauthorized:wrong-pin');
    expect(h.inv.invitations.get('P-1')).toMatchObject({ status: 'Pending', failures: 1 });
  });
});
