/**
 * Phone codes, domain (issue 17, rule 33): the code as a secret of the invitation link on fakes.
 * The HTTP behaviour (outbox, races on DynamoDB Local) is in test/integration/phone-codes.test.ts.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hmacPhoneCodeKey } from '../../../lambdas/adapters/phone-codes.ts';
import { DomainError } from '../../../lambdas/domain/errors.ts';
import { cancelInvitation, resendInvitation, sendInvitation } from '../../../lambdas/domain/invitations.ts';
import { editRecord } from '../../../lambdas/domain/portal-record.ts';
import {
  invitationNeeds,
  isE164,
  MAX_TEXTS_PER_HOUR,
  newPhoneCode,
  phoneCodeText,
  requestPhoneCode,
  type PhoneCodeState,
  type PhoneCodeStore,
} from '../../../lambdas/domain/phone-codes.ts';
import { checkInvitation, register } from '../../../lambdas/domain/registration.ts';
import { changeSettings } from '../../../lambdas/domain/settings.ts';
import { memoryThrottle } from '../../support/memory-invitations.ts';
import { goodPassword, harness, staff } from './invitation-harness.ts';
import { outcome } from '../../support/domain-outcome.ts';

const admin = { ...staff, id: 'admin', staff: { ...staff.staff!, roles: ['admin' as const] } };
const phone = '+15555550123';
const ip = '198.51.100.9';

async function setup(options: { phone?: string | null; phoneCodes?: boolean } = {}) {
  const h = harness();
  const key = hmacPhoneCodeKey(randomBytes(32));
  const texts: { to: string; body: string }[] = [];
  let failSms = false;
  const sms = {
    async send(m: { to: string; body: string }) {
      if (failSms) throw new Error('sms down');
      texts.push(m);
    },
  };
  // The claim as the DynamoDB adapter makes it: only while the send times are still those read.
  const codes: PhoneCodeStore = {
    async claimText(change) {
      const s = h.inv.invitations.get(change.patientId) as PhoneCodeState | undefined;
      if (!s || s.linkId !== change.linkId || s.status !== 'Pending' || s.tokenHash !== change.tokenHash) return false;
      if (JSON.stringify(s.phoneSends) !== JSON.stringify(change.read)) return false;
      s.secrets = { ...s.secrets, phoneCode: change.stored };
      s.phoneSends = change.sends;
      h.mem.audit.push(change.audit);
      return true;
    },
  };
  await h.seed('P-1', { email: 'p-1@example.test', cases: ['C-1'], ...(options.phone !== null ? { phone: options.phone ?? phone } : {}) });
  const sent = await sendInvitation(h.deps, staff, 'P-1');
  const token = h.tokenFor('p-1@example.test');
  const availability = { configured: true };
  if (options.phoneCodes !== false) await changeSettings({ store: h.mem.store, clock: h.reg.clock, defaults: h.reg.settingsDefaults, sms: availability }, admin, { phoneCodes: true });
  const deps = { ...h.reg, invitations: h.inv.store, throttle: memoryThrottle(), codes, key, sms, availability };
  const reg = { ...h.reg, phoneCodeKey: key, sms: availability };
  const ask = (t = token) => requestPhoneCode(deps, t, ip);
  const lastCode = () => /\b(\d{6})\b/.exec(texts.at(-1)?.body ?? '')?.[1] ?? 'none';
  const attempt = (extra: Record<string, string>, t = token) => register(reg, { token: t, username: 'pat.one', password: goodPassword, sourceIp: ip, ...extra });
  return { h, token, pin: sent.pin, texts, ask, lastCode, attempt, reg, deps, failSms: (v: boolean) => (failSms = v) };
}


describe('the code', () => {
  it('6 digits from the CSPRNG; E.164 only', () => {
    const codes = new Set(Array.from({ length: 200 }, newPhoneCode));
    for (const c of codes) expect(c).toMatch(/^\d{6}$/);
    expect(codes.size).toBeGreaterThan(190);
    expect(isE164('+15555550123')).toBe(true);
    for (const bad of ['5555550123', '+0555550123', '+1 555 555 0123', '+1234567890123456', undefined]) expect(isE164(bad)).toBe(false);
  });

  it('the text holds the practice name and the code only', () => {
    const text = phoneCodeText('Maple & Oak', '012345');
    expect(text).toContain('Maple & Oak');
    expect(text).toContain('012345');
    expect(text).not.toMatch(/https?:|#token/);
  });

  it('needs: ["pin","phoneCode"] only with the setting on, SMS configured and an E.164 phone', () => {
    const on = { phoneCodes: true };
    expect(invitationNeeds(on, { phone }, { configured: true })).toEqual(['pin', 'phoneCode']);
    expect(invitationNeeds({ phoneCodes: false }, { phone }, { configured: true })).toEqual(['pin']);
    expect(invitationNeeds(on, { phone }, { configured: false })).toEqual(['pin']);
    expect(invitationNeeds(on, {}, { configured: true })).toEqual(['pin']);
  });
});

describe('texting and registering', () => {
  it('rule 33: the code is stored only as a keyed hash, and registers in place of the PIN', async () => {
    const s = await setup();
    expect(await checkInvitation(s.reg, s.token, ip)).toMatchObject({ needs: ['pin', 'phoneCode'] });
    expect(await s.ask()).toBe('sent');
    const code = s.lastCode();
    const stored = JSON.stringify(s.h.inv.invitations.get('P-1'));
    expect(stored).not.toContain(code);
    expect(s.h.inv.invitations.get('P-1')!.secrets!.phoneCode).toMatch(/^v1\.\d+\.[A-Za-z0-9_-]{43}$/);
    expect(JSON.stringify(s.h.mem.audit)).not.toContain(code);
    expect(JSON.stringify(s.h.mem.audit)).not.toContain(phone);
    expect((await s.attempt({ phoneCode: code })).username).toBe('pat.one');
  });

  it('exactly one of pin and phoneCode', async () => {
    const s = await setup();
    expect(await outcome(s.attempt({ pin: s.pin, phoneCode: '123456' }))).toBe('bad-request:validation-error');
    expect(await outcome(s.attempt({}))).toBe('bad-request:validation-error');
  });

  it('rule 33: wrong codes and wrong PINs share the 5 tries; the 5th locks the link', async () => {
    const s = await setup();
    await s.ask();
    const code = s.lastCode();
    const wrong = code === '000000' ? '000001' : '000000';
    expect(await outcome(s.attempt({ phoneCode: wrong }))).toBe('unauthorized:wrong-phone-code');
    expect(await outcome(s.attempt({ pin: 'WRONG2' }))).toBe('unauthorized:wrong-pin');
    expect(await outcome(s.attempt({ phoneCode: wrong }))).toBe('unauthorized:wrong-phone-code');
    expect(await outcome(s.attempt({ pin: 'WRONG3' }))).toBe('unauthorized:wrong-pin');
    expect(await outcome(s.attempt({ phoneCode: wrong }))).toBe('unauthorized:wrong-phone-code');
    expect(await outcome(s.attempt({ phoneCode: code }))).toBe('gone:invitation-gone');
    expect(s.h.record('P-1')!.invite.status).toBe('Locked');
  });

  it('rule 33: a code works 10 minutes', async () => {
    const s = await setup();
    await s.ask();
    s.h.advance(10 * 60 * 1000 + 1);
    expect(await outcome(s.attempt({ phoneCode: s.lastCode() }))).toBe('unauthorized:wrong-phone-code');
  });

  it('rule 33: at most 3 texts an hour per invitation, then again after the hour', async () => {
    const s = await setup();
    const outcomes = [];
    for (let i = 0; i < 5; i++) outcomes.push(await s.ask());
    expect(outcomes).toEqual(['sent', 'sent', 'sent', 'limit', 'limit']);
    expect(s.texts).toHaveLength(MAX_TEXTS_PER_HOUR);
    s.h.advance(60 * 60 * 1000 + 1);
    expect(await s.ask()).toBe('sent');
  });

  it('rule 33: requests at once: only one claim per read wins (the others send nothing)', async () => {
    const s = await setup();
    const outcomes = await Promise.all(Array.from({ length: 20 }, () => s.ask()));
    expect(s.texts.length).toBeLessThanOrEqual(3);
    expect(outcomes.filter((o) => o === 'sent')).toHaveLength(s.texts.length);
  });

  it('nothing is texted without a phone, with the setting off, for a dead link; a failed send uses its slot only', async () => {
    expect(await (await setup({ phone: null })).ask()).toBe('no-valid-phone');
    expect(await (await setup({ phoneCodes: false })).ask()).toBe('setting-off');
    const s = await setup();
    expect(await s.ask('x'.repeat(43))).toBe('link-dead');
    s.failSms(true);
    expect(await s.ask()).toBe('send-failed');
    expect(s.texts).toHaveLength(0);
  });
});

describe('the code is dead after', () => {
  it('registration (with the PIN)', async () => {
    const s = await setup();
    await s.ask();
    await s.attempt({ pin: s.pin });
    expect(await outcome(s.attempt({ phoneCode: s.lastCode() }))).toBe('gone:invitation-gone');
  });

  it('a resend: the new token does not take the old code', async () => {
    const s = await setup();
    await s.ask();
    const code = s.lastCode();
    await resendInvitation(s.h.deps, staff, 'P-1');
    const token = s.h.tokenFor('p-1@example.test');
    expect(await outcome(s.attempt({ phoneCode: code }, token))).toBe('unauthorized:wrong-phone-code');
  });

  it('a cancel', async () => {
    const s = await setup();
    await s.ask();
    await cancelInvitation(s.h.deps, staff, 'P-1');
    expect(await outcome(s.attempt({ phoneCode: s.lastCode() }))).toBe('gone:invitation-gone');
  });

  it('an email change', async () => {
    const s = await setup();
    await s.ask();
    await editRecord(s.h.deps, staff, 'P-1', { email: 'new@example.test' }, undefined);
    expect(await outcome(s.attempt({ phoneCode: s.lastCode() }))).toBe('gone:invitation-gone');
  });

  it('a phone change (the PIN still works)', async () => {
    const s = await setup();
    await s.ask();
    await editRecord(s.h.deps, staff, 'P-1', { phone: '+15555550999' }, undefined);
    expect(await outcome(s.attempt({ phoneCode: s.lastCode() }))).toBe('unauthorized:wrong-phone-code');
    expect((await s.attempt({ pin: s.pin })).username).toBe('pat.one');
  });
});

describe('settings', () => {
  it('phoneCodes cannot be turned on without SMS in the deployment: 400 naming it, with the reason', async () => {
    const h = harness();
    const err = await changeSettings({ store: h.mem.store, clock: h.reg.clock, defaults: h.reg.settingsDefaults, sms: { configured: false, reason: 'no origination identity' } }, admin, { phoneCodes: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DomainError);
    expect((err as DomainError).extra).toEqual({ errors: [{ path: 'body.phoneCodes', message: 'cannot be turned on: no origination identity' }] });
    // Turning it off is always allowed.
    await expect(changeSettings({ store: h.mem.store, clock: h.reg.clock, defaults: h.reg.settingsDefaults }, admin, { phoneCodes: false })).resolves.toMatchObject({ phoneCodes: false });
  });
});

describe('each backend call failing in turn', () => {
  it('a failed read, claim, MAC or text leaves no half state: the request fails (or sends nothing) and the next one texts a working code', async () => {
    const cases: [string, (s: Awaited<ReturnType<typeof setup>>) => () => void][] = [
      ['records', (s) => fail(s.deps.store, 'getRecord')],
      ['link state', (s) => fail(s.deps.invitations, 'get')],
      ['link pointer', (s) => fail(s.deps.invitations, 'find')],
      ['settings', (s) => fail(s.deps.store, 'getSettings')],
      ['claim', (s) => fail(s.deps.codes, 'claimText')],
      ['key', (s) => fail(s.deps.key, 'mac')],
    ];
    for (const [name, breakIt] of cases) {
      const s = await setup();
      const restore = breakIt(s);
      await expect(s.ask(), name).rejects.toThrow();
      restore();
      expect(s.texts, name).toHaveLength(0);
      expect(await s.ask(), name).toBe('sent');
      expect((await s.attempt({ phoneCode: s.lastCode() })).username, name).toBe('pat.one');
    }
    // The text itself: the claim stands (one of the 3 used), nothing else changes; a new request sends.
    const s = await setup();
    s.failSms(true);
    expect(await s.ask()).toBe('send-failed');
    s.failSms(false);
    expect(await s.ask()).toBe('sent');
    expect((await s.attempt({ phoneCode: s.lastCode() })).username).toBe('pat.one');
  });
});

/** Makes `target[method]` throw once, as a backend outage would; returns the undo. */
function fail<T extends object>(target: T, method: keyof T): () => void {
  const original = target[method] as unknown as (...args: unknown[]) => unknown;
  (target as Record<keyof T, unknown>)[method] = async () => {
    throw Object.assign(new Error('backend down'), { name: 'InternalServerError' });
  };
  return () => {
    (target as Record<keyof T, unknown>)[method] = original;
  };
}
