/**
 * Rule 33 (phone codes), the stored code and the send limit, at the level of the secret and of
 * textPhoneCode: a stored value is right only as `v1.<expiresAtMs>.<mac>` with nothing more, for
 * a 6-digit typed code, an unexpired safe-integer expiry, the record's E.164 phone and the link's
 * token. Each hostile case changes ONE of these with every other fact right.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hmacPhoneCodeKey } from '../../../lambdas/adapters/phone-codes.ts';
import { throttleKeys, throttlePolicy } from '../../../lambdas/domain/sign-in-throttle.ts';
import { memoryThrottleState } from '../../support/memory-throttle.ts';
import {
  invitationNeeds,
  isE164,
  requestPhoneCode,
  normalisePhoneCode,
  phoneCodeRefusal,
  phoneCodeSecret,
  sendsInLastHour,
  storedPhoneCode,
  textPhoneCode,
  type PhoneCodeState,
  type PhoneCodeStore,
} from '../../../lambdas/domain/phone-codes.ts';
import type { StoredRecord } from '../../../lambdas/domain/portal-record.ts';
import type { AuditEvent } from '../../../lambdas/domain/audit.ts';

const key = hmacPhoneCodeKey(randomBytes(32));
const now = new Date('2026-11-30T10:00:00.000Z');
const clock = () => now;
const phone = '+15555550123';
const expiresAtMs = now.getTime() + 10 * 60 * 1000;
const state = { patientId: 'P-1', linkId: 'L-1', tokenHash: 'th-1', status: 'Pending' } as PhoneCodeState;
const record = { patientId: 'P-1', phone } as StoredRecord;
const binding = { patientId: 'P-1', linkId: 'L-1', tokenHash: 'th-1', phone, expiresAtMs };
const secret = phoneCodeSecret(key, clock);

describe('rule 33: the stored code matches only as it was stored', () => {
  it('the right code, typed with spaces or dashes, matches', async () => {
    const stored = await storedPhoneCode(key, binding, '012345');
    expect(await secret.matches('012345', stored, state, record)).toBe(true);
    expect(await secret.matches(' 012 345 ', stored, state, record)).toBe(true);
    expect(await secret.matches('012-345', stored, state, record)).toBe(true);
    expect(await secret.matches('012346', stored, state, record)).toBe(false);
    expect(normalisePhoneCode('01 2-3  4--5')).toBe('012345');
  });

  it('a stored value with another version, or one more part, is wrong (same MAC)', async () => {
    const stored = await storedPhoneCode(key, binding, '012345');
    const [, expires, mac] = stored.split('.');
    expect(await secret.matches('012345', `v2.${expires}.${mac}`, state, record)).toBe(false);
    expect(await secret.matches('012345', `${stored}.x`, state, record)).toBe(false);
    expect(await secret.matches('012345', undefined, state, record)).toBe(false);
    expect(await secret.matches('012345', '', state, record)).toBe(false);
  });

  it('an expiry that is not a safe integer, or not after now, is wrong even with its right MAC', async () => {
    const huge = await storedPhoneCode(key, { ...binding, expiresAtMs: 1e20 }, '012345');
    expect(await secret.matches('012345', huge, state, record)).toBe(false);
    const atNow = await storedPhoneCode(key, { ...binding, expiresAtMs: now.getTime() }, '012345');
    expect(await secret.matches('012345', atNow, state, record)).toBe(false);
    const justAfter = await storedPhoneCode(key, { ...binding, expiresAtMs: now.getTime() + 1 }, '012345');
    expect(await secret.matches('012345', justAfter, state, record)).toBe(true);
  });

  it('a record without an E.164 phone never matches, even a code bound to "no phone"', async () => {
    const noPhone = await storedPhoneCode(key, { ...binding, phone: '' }, '012345');
    expect(await secret.matches('012345', noPhone, state, { ...record, phone: undefined } as StoredRecord)).toBe(false);
    expect(await secret.matches('012345', noPhone, state, { ...record, phone: '555-0123' } as StoredRecord)).toBe(false);
  });

  it('a typed code that is not 6 digits never matches, even when stored so', async () => {
    const short = await storedPhoneCode(key, binding, '12345');
    expect(await secret.matches('12345', short, state, record)).toBe(false);
    const letters = await storedPhoneCode(key, binding, '12345a');
    expect(await secret.matches('12345a', letters, state, record)).toBe(false);
    const seven = await storedPhoneCode(key, binding, '1234567');
    expect(await secret.matches('1234567', seven, state, record)).toBe(false);
  });

  it('a link state without its token hash never matches', async () => {
    const noToken = await storedPhoneCode(key, { ...binding, tokenHash: '' }, '012345');
    const { tokenHash: _t, ...bare } = state;
    expect(await secret.matches('012345', noToken, bare as PhoneCodeState, record)).toBe(false);
  });

  it('another link, another record, another token: wrong', async () => {
    const stored = await storedPhoneCode(key, binding, '012345');
    expect(await secret.matches('012345', stored, { ...state, linkId: 'L-2' }, record)).toBe(false);
    expect(await secret.matches('012345', stored, { ...state, patientId: 'P-2' }, record)).toBe(false);
    expect(await secret.matches('012345', stored, { ...state, tokenHash: 'th-2' }, record)).toBe(false);
    expect(stored.startsWith(`v1.${expiresAtMs}.`)).toBe(true);
  });
});

describe('rule 33: who may get a text', () => {
  it('the refusal names what is missing, SMS first', () => {
    expect(phoneCodeRefusal({ phoneCodes: false }, {}, { configured: false })).toBe('sms-not-configured');
    expect(phoneCodeRefusal({ phoneCodes: false }, { phone }, { configured: true })).toBe('setting-off');
    expect(phoneCodeRefusal({ phoneCodes: true }, { phone: '12345' }, { configured: true })).toBe('no-valid-phone');
    expect(phoneCodeRefusal({ phoneCodes: true }, { phone }, { configured: true })).toBeUndefined();
    expect(invitationNeeds({ phoneCodes: true }, { phone: '12345' }, { configured: true })).toEqual(['pin']);
  });

  it('sends of the last hour only (exactly an hour ago is out), oldest first', () => {
    const hourAgo = new Date(now.getTime() - 60 * 60 * 1000).toISOString();
    const justInside = new Date(now.getTime() - 60 * 60 * 1000 + 1).toISOString();
    const later = new Date(now.getTime() - 1000).toISOString();
    expect(sendsInLastHour([later, hourAgo, justInside], now)).toEqual([justInside, later]);
    expect(sendsInLastHour(undefined, now)).toEqual([]);
  });
});

describe('rule 33: texting', () => {
  function world(phoneSends?: string[]) {
    const claims: Parameters<PhoneCodeStore['claimText']>[0][] = [];
    const texts: { to: string; body: string }[] = [];
    const deps = {
      codes: { claimText: async (c: Parameters<PhoneCodeStore['claimText']>[0]) => (claims.push(c), true) },
      key,
      sms: { send: async (m: { to: string; body: string }) => void texts.push(m) },
      availability: { configured: true },
      clock,
    };
    const live = { tokenHash: 'th-1', state: { ...state, ...(phoneSends ? { phoneSends } : {}) }, record };
    return { deps, live, claims, texts };
  }
  const settings = { phoneCodes: true, practiceName: 'Maple Clinic' };

  it('claims with what it read, the recent sends plus now, a code valid 10 minutes that the secret accepts; audits the count, never the code or phone', async () => {
    const twoHoursAgo = new Date(now.getTime() - 2 * 60 * 60 * 1000).toISOString();
    const recent = new Date(now.getTime() - 60 * 1000).toISOString();
    const w = world([twoHoursAgo, recent]);
    expect(await textPhoneCode(w.deps, w.live, settings, '198.51.100.1')).toBe('sent');
    const [claim] = w.claims;
    expect(claim).toMatchObject({ patientId: 'P-1', linkId: 'L-1', tokenHash: 'th-1', read: [twoHoursAgo, recent], sends: [recent, now.toISOString()] });
    expect(claim!.stored.startsWith(`v1.${expiresAtMs}.`)).toBe(true);
    const audit: AuditEvent = claim!.audit;
    expect(audit).toMatchObject({ action: 'invitation.phone-code-sent', target: 'patient:P-1', actor: 'anonymous', sourceIp: '198.51.100.1', detail: { textsThisHour: 2 } });
    const code = /\b(\d{6})\b/.exec(w.texts[0]!.body)![1]!;
    expect(w.texts[0]!.to).toBe(phone);
    expect(w.texts[0]!.body).toBe(`Maple Clinic: your portal code is ${code}. It works for 10 minutes. Do not share it.`);
    expect(JSON.stringify(claim)).not.toContain(code);
    expect(JSON.stringify(claim)).not.toContain(phone);
    expect(await secret.matches(code, claim!.stored, state, record)).toBe(true);
  });

  it('a refused record, the limit, a lost claim: nothing texted', async () => {
    const off = world();
    expect(await textPhoneCode(off.deps, off.live, { ...settings, phoneCodes: false }, 'ip')).toBe('setting-off');
    const sends = [1, 2, 3].map((m) => new Date(now.getTime() - m * 60 * 1000).toISOString());
    const full = world(sends);
    expect(await textPhoneCode(full.deps, full.live, settings, 'ip')).toBe('limit');
    const two = world(sends.slice(0, 2));
    expect(await textPhoneCode(two.deps, two.live, settings, 'ip')).toBe('sent');
    const lost = world();
    lost.deps.codes.claimText = async () => false;
    expect(await textPhoneCode(lost.deps, lost.live, settings, 'ip')).toBe('busy');
    for (const w of [off, full, lost]) expect(w.texts).toEqual([]);
  });
});

describe('rule 33: what the keyed hash covers', () => {
  it('its purpose, its version and every fact it is bound to, each field apart (no two bindings can run together)', async () => {
    const seen: string[] = [];
    const spy = { mac: async (m: string) => (seen.push(m), 'mac') };
    await storedPhoneCode(spy, binding, '012 345');
    expect(seen).toEqual([`phone-code|v1|P-1|L-1|th-1|${phone}|${expiresAtMs}|012345`]);
  });

  it('a phone number is E.164 from its first character: text before the "+" is not', () => {
    expect(isE164('x+15555550123')).toBe(false);
    expect(isE164('1+15555550123')).toBe(false);
    expect(isE164('+15555550123')).toBe(true);
  });
});

describe('rule 33: asking for a code', () => {
  it('an address past its budget of dead links is 429, not the quiet "link-dead"', async () => {
    const throttle = memoryThrottleState();
    const keys = throttleKeys('invitation', 'link:x', '198.51.100.7', now);
    throttle.addresses.set(keys.addressKey, throttlePolicy.addressFailuresPerWindow);
    const deps = {
      codes: { claimText: async () => true },
      key,
      sms: { send: async () => undefined },
      availability: { configured: true },
      clock,
      store: { getRecord: async () => undefined, getSettings: async () => undefined } as never,
      invitations: { find: async () => undefined, get: async () => undefined } as never,
      throttle: throttle.store,
      settingsDefaults: { practiceName: 'Maple', portalUrl: 'https://portal.example.test' },
    };
    const err = await requestPhoneCode(deps, 'A'.repeat(43), '198.51.100.7').catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'too-many-requests' });
    throttle.addresses.set(keys.addressKey, 0);
    expect(await requestPhoneCode(deps, 'A'.repeat(43), '198.51.100.7')).toBe('link-dead');
  });
});
