/**
 * Mutation survivors of lambdas/domain/resets.ts (issue 20), killed through confirmReset /
 * requestReset / staffReset on the in-memory stores (harness copied from resets.flows.test.ts):
 * the link's record check at look-up (rules 9, 11, 17, 29), the username typed in another case,
 * what the address counter counts (rule 6), staff past the patient's hourly limit, renames.
 */
import { describe, expect, it } from 'vitest';
import { DomainError, versionConflict } from '../../../lambdas/domain/errors.ts';
import type { StoredRecord } from '../../../lambdas/domain/portal-record.ts';
import { confirmReset, requestReset, staffReset } from '../../../lambdas/domain/resets.ts';
import { outage } from '../../support/memory-invitations.ts';
import { staff } from './invitation-harness.ts';

import { frontdesk, harness, newPassword, outcome, practice, requested, sourceIp } from './resets-harness.ts';

const addressFailures = (h: ReturnType<typeof harness>) => [...h.throttle.addresses.values()].reduce((a, b) => a + b, 0);

describe('rules 9, 11, 17, 29: the record no longer the one the link was issued for is the one 410 at look-up', () => {
  for (const [name, change] of [
    ['access off', { accessEnabled: false }],
    ['another login', { accountId: 'acc-other' }],
    ['no login at all', { accountId: undefined }],
    ['no username', { username: undefined }],
  ] as [string, Partial<StoredRecord>][]) {
    it(`${name}: gone before any password is set, and the address counter counts it (rule 6)`, async () => {
      const { h, attempt } = await requested();
      h.edit(change);
      expect(await outcome(confirmReset(h.deps, attempt))).toBe('gone:reset-link-gone');
      expect(h.passwords.size).toBe(0);
      expect(h.signedOut).toEqual([]);
      expect(h.audits('reset.completed')).toHaveLength(0);
      expect(addressFailures(h)).toBe(1);
    });
  }

  it('the happy twin: the record unchanged but edited elsewhere (version moved on) still resets', async () => {
    const { h, attempt } = await requested();
    h.edit({ cases: [] });
    expect(await outcome(confirmReset(h.deps, attempt))).toBe('ok');
    expect(h.passwords.get('acc-P-1')).toBe(newPassword);
    expect(addressFailures(h)).toBe(0);
  });
});

describe('rule 6: the username is typed in any case and spacing; only a wrong set counts against the address', () => {
  it('the username typed in lower case with spaces around is the right one', async () => {
    const { h, attempt } = await requested();
    expect(await outcome(confirmReset(h.deps, { ...attempt, username: '  maple.lee ' }))).toBe('ok');
    expect(h.passwords.get('acc-P-1')).toBe(newPassword);
  });

  it('hostile twin: another username with the right PIN is refused and counted once', async () => {
    const { h, attempt } = await requested();
    expect(await outcome(confirmReset(h.deps, { ...attempt, username: 'oak.lee' }))).toBe('unauthorized:wrong-pin-or-username');
    expect(h.passwords.size).toBe(0);
    expect(addressFailures(h)).toBe(1);
  });

  it('a link whose stored PIN hash is missing refuses every PIN as a wrong set (never a crash)', async () => {
    const { h, attempt } = await requested();
    const state = h.resets.states.get('P-1')!;
    h.resets.states.set('P-1', { ...state, secrets: {} });
    expect(await outcome(confirmReset(h.deps, attempt))).toBe('unauthorized:wrong-pin-or-username');
    expect(h.passwords.size).toBe(0);
  });

  it('a corrupt stored PIN hash is a server error, never counted against the caller address', async () => {
    const { h, attempt } = await requested();
    const state = h.resets.states.get('P-1')!;
    h.resets.states.set('P-1', { ...state, secrets: { pin: 42 as unknown as string } });
    await expect(confirmReset(h.deps, attempt)).rejects.toThrow(TypeError);
    expect(addressFailures(h)).toBe(0);
    expect(h.passwords.size).toBe(0);
  });
});

describe('staff are not held to the patient hourly email limit', () => {
  it('three patient emails this hour, then a staff reset: sent', async () => {
    const h = harness();
    for (let i = 0; i < 3; i++) await requestReset(h.deps, { username: 'maple.lee', sourceIp });
    expect(h.mail.sent).toHaveLength(3);
    await requestReset(h.deps, { username: 'maple.lee', sourceIp });
    expect(h.mail.sent).toHaveLength(3);
    expect(await staffReset(h.deps, frontdesk as never, 'P-1')).toMatchObject({ delivery: 'Sent' });
    expect(h.mail.sent).toHaveLength(4);
  });
});

describe('rules 9 and 11: a link state with no login named, on a record with none, is gone too', () => {
  it('no accountId on the link nor on the record: 410, nothing set', async () => {
    const { h, attempt } = await requested();
    const state = h.resets.states.get('P-1')!;
    h.resets.states.set('P-1', { ...state, accountId: undefined } as never);
    h.edit({ accountId: undefined });
    expect(await outcome(confirmReset(h.deps, attempt))).toBe('gone:reset-link-gone');
    expect(h.passwords.size).toBe(0);
  });
});

describe('rule 9: the record deleted under the lease is the one 410, nothing committed', () => {
  it('record gone while the password is being set', async () => {
    const { h, attempt } = await requested();
    h.deps.logins = {
      ...h.deps.logins,
      setPassword: async (id, password) => {
        h.passwords.set(id, password);
        h.mem.docs.delete('patient:P-1');
      },
    };
    expect(await outcome(confirmReset(h.deps, attempt))).toBe('gone:reset-link-gone');
    expect(h.audits('reset.completed')).toHaveLength(0);
  });
});

describe('rule 27: a new username this login already holds is not "taken"', () => {
  it('the index already names this account for the new name: the rename goes through', async () => {
    const { h, attempt } = await requested();
    h.usernames.set('oak.lee', { accountId: 'acc-P-1', patientId: 'P-1' });
    expect(await outcome(confirmReset(h.deps, { ...attempt, newUsername: 'Oak.Lee' }))).toBe('ok');
    expect(h.record().username).toBe('Oak.Lee');
  });
});

describe('rule 15: the notice uses the settings read with the link, and reads them again only when that read failed', () => {
  const settingsReads = (h: ReturnType<typeof harness>, fail: (n: number) => boolean) => {
    const get = h.deps.store.getSettings.bind(h.deps.store);
    let n = 0;
    h.deps.store = { ...h.deps.store, getSettings: async () => (fail(++n) ? Promise.reject(outage()) : get()) };
  };

  it('read once with the link; a later settings outage does not stop the notice', async () => {
    const { h, attempt } = await requested();
    settingsReads(h, (n) => n > 1);
    expect(await outcome(confirmReset(h.deps, attempt))).toBe('ok');
    expect(h.mail.sent.at(-1)!.text).toContain('Maple Clinic');
    expect(h.audits('reset.notice-failed')).toHaveLength(0);
  });

  it('the read with the link failed: read again for the notice, which still goes out with the practice name', async () => {
    const { h, attempt } = await requested();
    settingsReads(h, (n) => n === 1);
    expect(await outcome(confirmReset(h.deps, attempt))).toBe('ok');
    expect(h.mail.sent.at(-1)!.text).toContain('Maple Clinic');
    expect(h.audits('reset.notice-failed')).toHaveLength(0);
  });

  it('a mailer that throws a non-Error: logged as "unknown", no detail; and with no logger at all, still done', async () => {
    for (const warn of [true, false]) {
      const { h, attempt } = await requested();
      h.deps.mailer = { send: async () => Promise.reject('p-1@example.test refused') };
      if (!warn) delete h.deps.warn;
      expect(await outcome(confirmReset(h.deps, attempt))).toBe('ok');
      expect(h.audits('reset.notice-failed')).toHaveLength(1);
      expect(h.warnings).toEqual(warn ? [{ msg: 'credentials-changed notice failed', fields: { errorName: 'unknown' } }] : []);
    }
  });
});

describe('rule 6: the hourly email limit counts every email of the hour, the answer never tells', () => {
  it('four requests in the hour: three emails, the fourth audited as rate-limited, the same empty answer', async () => {
    const h = harness();
    for (let i = 0; i < 3; i++) await expect(requestReset(h.deps, { username: 'maple.lee', sourceIp })).resolves.toBeUndefined();
    expect(h.resets.states.get('P-1')!.data?.sentAt).toHaveLength(3);
    await expect(requestReset(h.deps, { username: 'maple.lee', sourceIp })).resolves.toBeUndefined();
    expect(h.mail.sent).toHaveLength(3);
    expect(h.audits('reset.requested').at(-1)!.detail).toEqual({ by: 'patient', emailed: false, reason: 'rate-limited' });
  });

  it('a link at the very end of its life is not "replaced" by a new request', async () => {
    const h = harness();
    await requestReset(h.deps, { username: 'maple.lee', sourceIp });
    h.advance(60 * 60_000);
    await requestReset(h.deps, { username: 'maple.lee', sourceIp });
    expect(h.audits('reset.requested').at(-1)!.detail).toEqual({ by: 'patient', emailed: true, replaced: false, minutes: 60 });
  });
});

describe('rule 13: the race paths with no logger, and a failure that is not a lost race', () => {
  it('rate-limited on the fresh read and a crowd losing the race: still no error without a logger', async () => {
    const h = harness();
    delete h.deps.warn;
    await requestReset(h.deps, { username: 'maple.lee', sourceIp });
    await requestReset(h.deps, { username: 'maple.lee', sourceIp });
    const plain = { ...h.deps, resets: { ...h.deps.resets } };
    const write = h.deps.resets.write;
    let raced = false;
    h.deps.resets.write = async (change) => {
      if (!raced) {
        raced = true;
        await requestReset(plain, { username: 'maple.lee', sourceIp });
      }
      return write(change);
    };
    await expect(requestReset(h.deps, { username: 'maple.lee', sourceIp })).resolves.toBeUndefined();
    expect(h.mail.sent).toHaveLength(3);
    expect(h.audits('reset.requested').at(-1)!.detail).toEqual({ by: 'patient', emailed: false, reason: 'rate-limited' });
    const other = harness();
    delete other.deps.warn;
    other.deps.resets.write = async () => {
      throw versionConflict();
    };
    await expect(requestReset(other.deps, { username: 'maple.lee', sourceIp })).resolves.toBeUndefined();
  });

  it('any other refusal while issuing is an error, not the silent 202', async () => {
    const h = harness();
    h.deps.resets.write = async () => {
      throw new DomainError('gone', 'reset-link-gone', 'gone');
    };
    await expect(requestReset(h.deps, { username: 'maple.lee', sourceIp })).rejects.toMatchObject({ code: 'reset-link-gone' });
    expect(h.warnings).toEqual([]);
  });
});

describe('the reset email failing with a non-Error: logged as "unknown", no address', () => {
  it('the reset stands and the log names no detail', async () => {
    const h = harness();
    h.deps.mailer = { send: async () => Promise.reject('p-1@example.test refused') };
    await expect(requestReset(h.deps, { username: 'maple.lee', sourceIp })).resolves.toBeUndefined();
    expect(h.resets.states.get('P-1')!.status).toBe('Pending');
    expect(h.warnings).toEqual([{ msg: 'reset email failed', fields: { errorName: 'unknown' } }]);
  });
});
