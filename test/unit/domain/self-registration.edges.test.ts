/**
 * Self-registration (issue 19) at the edges mutation testing found unguarded (issue 20): the
 * address key (one open request per address, rule 13), an overrun floor with no log sink, and the
 * decline email's wording of the practice.
 */
import { describe, expect, it } from 'vitest';
import { sha256 } from '../../../lambdas/domain/secrets.ts';
import {
  rejectSelfRegistration,
  requestEmailHash,
  requestSelfRegistration,
  selfRegistrationAccepted,
  verifySelfRegistration,
} from '../../../lambdas/domain/self-registration.ts';
import { form, selfRegWorld, staff } from './self-registration-harness.ts';

describe('rule 13: one open request per address, keyed by the address in lower case', () => {
  it('the stored key is the hash of the trimmed, lower-cased address (the key items already written are found by)', () => {
    expect(requestEmailHash(' Ada@Example.TEST ')).toBe(sha256('self-registration:ada@example.test'));
  });

  it('two addresses that only upper-casing makes equal (ß / ss) are two requests: the second does not replace the first, both links work', async () => {
    const w = selfRegWorld();
    await requestSelfRegistration(w.deps, { ...form, email: 'strasse@example.test' });
    const first = w.tokenOf('/portal/self-register')!;
    await requestSelfRegistration(w.deps, { ...form, email: 'straße@example.test' });
    const second = w.tokenOf('/portal/self-register')!;
    expect(second).not.toBe(first);
    expect(await verifySelfRegistration(w.deps, { token: first, sourceIp: form.sourceIp })).toEqual({ status: 'Pending' });
    expect(await verifySelfRegistration(w.deps, { token: second, sourceIp: form.sourceIp })).toEqual({ status: 'Pending' });
  });

  it('the same address in another case is the same request: replaced, the first link dead', async () => {
    const w = selfRegWorld();
    await requestSelfRegistration(w.deps, { ...form, email: 'ada@example.test' });
    const first = w.tokenOf('/portal/self-register')!;
    await requestSelfRegistration(w.deps, { ...form, email: 'ADA@EXAMPLE.TEST' });
    expect((await verifySelfRegistration(w.deps, { token: first, sourceIp: form.sourceIp }).catch((e: { code?: string }) => e.code))).toBe('link-gone');
  });
});

describe('rule 13: the time floor', () => {
  it('work past the floor with no log sink still answers the one 202 (the warning is optional)', async () => {
    const w = selfRegWorld();
    const { warn: _w, ...quiet } = w.deps;
    w.workTakes(700);
    expect(await requestSelfRegistration(quiet, form)).toEqual(selfRegistrationAccepted);
    expect(w.mail.sent).toHaveLength(1);
  });
});

describe('reject: the decline email', () => {
  it('names the practice (and nothing of the request\'s record or reason)', async () => {
    const w = selfRegWorld();
    await requestSelfRegistration(w.deps, form);
    await verifySelfRegistration(w.deps, { token: w.tokenOf('/portal/self-register')!, sourceIp: form.sourceIp });
    const open = (await w.requests.openRequest(requestEmailHash(form.email)))!;
    await rejectSelfRegistration(w.deps, staff, open.requestId, 'duplicate of P-9');
    const told = w.mail.sent.at(-1)!;
    expect(told.to).toBe('Ada@Example.test');
    expect(told.subject).toBe('Your Riverside Clinic patient portal request');
    expect(told.text).toContain('please call Riverside Clinic');
    expect(`${told.subject}${told.text}${told.html}`).not.toMatch(/undefined|P-9|duplicate/);
  });
});
