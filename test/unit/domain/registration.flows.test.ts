/**
 * Mutation-testing rules for lambdas/domain/registration.ts (issue 20), through checkInvitation
 * and register on the invitation harness: exactly one of PIN and phone code, the phone code as
 * the secret (a wrong one and one with no key are counted wrong tries, rule 7), the password
 * rules against the email on file (rule 3), what the commit writes, and the record changing
 * under the lease (rules 11, 29). Outcomes only, never the backend calls made.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hmacPhoneCodeKey } from '../../../lambdas/adapters/phone-codes.ts';
import { DomainError } from '../../../lambdas/domain/errors.ts';
import { sendInvitation } from '../../../lambdas/domain/invitations.ts';
import { storedPhoneCode } from '../../../lambdas/domain/phone-codes.ts';
import type { StoredRecord } from '../../../lambdas/domain/portal-record.ts';
import { checkInvitation, register, type RegistrationAttempt } from '../../../lambdas/domain/registration.ts';
import { changeSettings } from '../../../lambdas/domain/settings.ts';
import type { OutgoingEmail } from '../../../lambdas/domain/invitations.ts';
import { notifyPractice, type PracticeNoticeKind } from '../../../lambdas/domain/practice-notices.ts';
import type { RecordStore } from '../../../lambdas/domain/ports.ts';
import { goodPassword, harness, staff } from './invitation-harness.ts';

const ip = '198.51.100.1';
const phone = '+15555550123';
const admin = { ...staff, id: 'admin', staff: { ...staff.staff!, roles: ['admin' as const] } };

const failure = async (p: Promise<unknown>): Promise<DomainError | 'ok'> =>
  p.then(
    () => 'ok' as const,
    (err: unknown) => {
      if (err instanceof DomainError) return err;
      throw err;
    },
  );
const code = async (p: Promise<unknown>) => {
  const f = await failure(p);
  return f === 'ok' ? 'ok' : `${f.kind}:${f.code}`;
};

async function invited(h = harness()) {
  await h.seed('P-1', { email: 'p-1@example.test', cases: ['C-1'], phone });
  const { pin } = await sendInvitation(h.deps, staff, 'P-1');
  const token = h.tokenFor('p-1@example.test');
  const attempt: RegistrationAttempt = { token, pin, username: 'pat.one', password: goodPassword, sourceIp: ip };
  return { h, pin, token, attempt };
}
const state = (h: ReturnType<typeof harness>) => h.inv.invitations.get('P-1')!;
const edit = (h: ReturnType<typeof harness>, change: Partial<StoredRecord>) => {
  // As every record write does: the version moves on (the commit is conditional on the one it read).
  const doc = h.mem.docs.get('patient:P-1')!;
  doc.version += 1;
  doc.value = { ...(doc.value as StoredRecord), ...change, version: doc.version };
};

/** A phone code stored on the link as the texting step would (phone-codes.ts), for the record's phone. */
async function withPhoneCode(h: ReturnType<typeof harness>, typed = '123456') {
  const key = hmacPhoneCodeKey(randomBytes(32));
  const s = state(h);
  const expiresAtMs = h.deps.clock().getTime() + 10 * 60_000;
  s.secrets = { ...s.secrets, phoneCode: await storedPhoneCode(key, { patientId: 'P-1', linkId: s.linkId, tokenHash: s.tokenHash!, phone, expiresAtMs }, typed) };
  return { ...h.reg, phoneCodeKey: key };
}

describe('the secret typed', () => {
  it('both a PIN and a phone code, or neither: 400 naming body.pin, and no try used', async () => {
    const { h, attempt } = await invited();
    for (const bad of [{ ...attempt, phoneCode: '123456' }, { ...attempt, pin: undefined }]) {
      const f = await failure(register(h.reg, bad));
      expect(f).toMatchObject({ kind: 'bad-request', code: 'validation-error' });
      expect((f as DomainError).extra.errors?.map((e) => e.path)).toEqual(['body.pin']);
    }
    expect(state(h)).toMatchObject({ failures: 0, tries: 0 });
    expect(h.pool.users.size).toBe(0);
  });

  it('rule 7: the right phone code instead of the PIN registers', async () => {
    const { h, attempt } = await invited();
    const reg = await withPhoneCode(h);
    expect(await code(register(reg, { ...attempt, pin: undefined, phoneCode: '123-456' }))).toBe('ok');
    expect(h.record('P-1')).toMatchObject({ username: 'pat.one', invite: { status: 'Accepted' } });
  });

  it('rule 7: a wrong phone code is its own 401, counted on the same link counter; the PIN is not accepted in its place', async () => {
    const { h, attempt, pin } = await invited();
    const reg = await withPhoneCode(h);
    expect(await code(register(reg, { ...attempt, pin: undefined, phoneCode: '654321' }))).toBe('unauthorized:wrong-phone-code');
    expect(await code(register(reg, { ...attempt, pin: undefined, phoneCode: pin }))).toBe('unauthorized:wrong-phone-code');
    expect(state(h)).toMatchObject({ failures: 2 });
    expect(h.pool.users.size).toBe(0);
  });

  it('rule 7: without a phone-code key no code ever matches (a wrong try), and the PIN still works after', async () => {
    const { h, attempt } = await invited();
    await withPhoneCode(h);
    expect(await code(register(h.reg, { ...attempt, pin: undefined, phoneCode: '123456' }))).toBe('unauthorized:wrong-phone-code');
    expect(state(h).failures).toBe(1);
    expect(await code(register(h.reg, attempt))).toBe('ok');
  });

  it('rule 5: a right PIN gives its try back at once (a refusal after it costs nothing)', async () => {
    const { h, attempt } = await invited();
    h.inv.usernames.set('pat.one', { accountId: 'acc-9', patientId: 'P-9' });
    expect(await code(register(h.reg, attempt))).toBe('conflict:username-taken');
    expect(state(h)).toMatchObject({ tries: 0, failures: 0 });
  });
});

describe('the password and the username', () => {
  it('rule 3: a password holding the email on file is 400 naming body.password; nothing made, the link still works', async () => {
    const { h, attempt } = await invited();
    const f = await failure(register(h.reg, { ...attempt, password: 'p-1@example.test harbor kettle' }));
    expect(f).toMatchObject({ kind: 'bad-request', code: 'validation-error' });
    expect((f as DomainError).extra.errors?.every((e) => e.path === 'body.password' && e.message.length > 0)).toBe(true);
    expect(h.pool.users.size).toBe(0);
    expect(await code(register(h.reg, attempt))).toBe('ok');
  });

  it('rule 3: a password holding the username is refused too', async () => {
    const { h, attempt } = await invited();
    expect(await code(register(h.reg, { ...attempt, username: 'kettleharbor', password: 'kettleharbor meadow quartz' }))).toBe('bad-request:validation-error');
  });
});

describe('the commit', () => {
  it('the record registered: first login stamped, the old "must change" gone, audited with the method', async () => {
    const { h, attempt } = await invited();
    edit(h, { login: { mustChangePassword: true } });
    const out = await register(h.reg, attempt);
    const record = h.record('P-1')!;
    expect(record).toMatchObject({ accountId: out.accountId, username: 'pat.one', registration: 'NormalRegistration', registeredAt: '2026-11-21T10:00:00.000Z' });
    expect(record.login).toBeUndefined();
    expect(h.mem.audit.at(-1)).toMatchObject({ action: 'registration.completed', actor: out.accountId, detail: { method: 'invitation' } });
  });

  it('rules 11 and 29: the record changing under the lease (access off, a login made elsewhere, revoked, its links cut) is the one 410, the login removed', async () => {
    const changes: ((r: StoredRecord) => Partial<StoredRecord>)[] = [
      () => ({ accessEnabled: false }),
      () => ({ accountId: 'acc-elsewhere' }),
      (r) => ({ invite: { ...r.invite, status: 'Cancelled' } }),
      (r) => ({ linkGeneration: (r.linkGeneration ?? 0) + 1 }),
    ];
    for (const change of changes) {
      const { h, attempt } = await invited();
      const upsert = h.reg.logins.upsert;
      h.reg.logins = {
        ...h.reg.logins,
        upsert: async (id, password) => {
          const made = await upsert(id, password);
          edit(h, change(h.record('P-1')!));
          return made;
        },
      };
      expect(await code(register(h.reg, attempt))).toBe('gone:invitation-gone');
      expect(h.pool.users.size).toBe(0);
      expect(state(h).status).toBe('Pending');
      expect(h.mem.audit.some((a) => a.action === 'registration.completed')).toBe(false);
    }
  });

  it('a record deleted under the lease: the one 410', async () => {
    const { h, attempt } = await invited();
    const upsert = h.reg.logins.upsert;
    h.reg.logins = {
      ...h.reg.logins,
      upsert: async (id, password) => {
        const made = await upsert(id, password);
        h.mem.docs.delete('patient:P-1');
        return made;
      },
    };
    expect(await code(register(h.reg, attempt))).toBe('gone:invitation-gone');
  });
});

describe('checking a link', () => {
  it('with phone codes on, SMS configured and a phone on file: the PIN or a phone code', async () => {
    const { h, token } = await invited();
    const sms = { configured: true };
    await changeSettings({ store: h.mem.store, clock: h.reg.clock, defaults: h.reg.settingsDefaults, sms }, admin, { phoneCodes: true });
    expect(await checkInvitation({ ...h.reg, sms }, token, ip)).toMatchObject({ needs: ['pin', 'phoneCode'], kind: 'patient' });
    expect(await checkInvitation(h.reg, token, ip)).toMatchObject({ needs: ['pin'] });
  });
});

describe('the practice notice (issue 19, with issue 16: the settings read beside the record)', () => {
  const inbox = 'front-desk@practice.test';
  /** The notice as the handler wires it, with a mailer and a log of its own, and a settings item of the given value. */
  async function told(settingsValue: Record<string, unknown> | undefined) {
    const { h, attempt, pin } = await invited();
    if (settingsValue) {
      const doc = { version: 1, value: settingsValue };
      h.mem.docs.set('settings', doc as never);
    }
    const sent: OutgoingEmail[] = [];
    const warnings: string[] = [];
    const notify = (kind: PracticeNoticeKind, settings: Pick<RecordStore, 'getSettings'>) =>
      notifyPractice({ store: settings, settingsDefaults: h.reg.settingsDefaults, mailer: { send: async (e) => void sent.push(e) }, warn: (msg) => void warnings.push(msg) }, kind);
    return { h, attempt, pin, sent, warnings, reg: { ...h.reg, notify } };
  }

  it('a registration tells the inbox the practice set, once, after the commit', async () => {
    const t = await told(undefined);
    await changeSettings({ store: t.h.mem.store, clock: t.h.reg.clock, defaults: t.h.reg.settingsDefaults }, admin, { notifyEmail: inbox });
    expect(await code(register(t.reg, t.attempt))).toBe('ok');
    expect(t.sent.map((e) => e.to)).toEqual([inbox]);
    expect(t.h.record('P-1')).toMatchObject({ username: 'pat.one' });
  });

  it('a refused registration (a wrong PIN) tells no one', async () => {
    const t = await told(undefined);
    await changeSettings({ store: t.h.mem.store, clock: t.h.reg.clock, defaults: t.h.reg.settingsDefaults }, admin, { notifyEmail: inbox });
    const wrong = t.pin === '00000000' ? '11111111' : '00000000';
    expect(await code(register(t.reg, { ...t.attempt, pin: wrong }))).not.toBe('ok');
    expect(t.sent).toEqual([]);
  });

  it('settings that cannot be parsed fail the notice (logged), never the registration', async () => {
    const t = await told({ notifyEmail: 42, practiceName: '' });
    expect(await code(register(t.reg, t.attempt))).toBe('ok');
    expect(t.h.record('P-1')).toMatchObject({ username: 'pat.one', invite: { status: 'Accepted' } });
    expect(t.sent).toEqual([]);
    expect(t.warnings).toEqual(['practice notice not sent']);
  });
});
