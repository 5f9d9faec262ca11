/**
 * Rule 32, "may this login act on this record, now?" (resolveAccess, openRecord, recordsOf) and
 * what a grant looks like to staff and the patient (proxyView): over the real adapter on the
 * in-memory DynamoDB, with hostile callers (another login, an ended or lapsed grant, a login
 * whose side names a record its grant does not).
 */
import { describe, expect, it } from 'vitest';
import { auditEvent } from '../../../lambdas/domain/audit.ts';
import { DomainError } from '../../../lambdas/domain/errors.ts';
import {
  auditForSubject,
  homeRecordOf,
  openRecord,
  proxyLinkPending,
  proxyView,
  recordFor,
  recordsOf,
  resolveAccess,
  subjectRecords,
} from '../../../lambdas/domain/proxies.ts';
import { aGrant, proxyWorld } from './proxy-harness.ts';

const codeOf = (p: Promise<unknown>) => p.then(() => 'no error', (e: unknown) => (e instanceof DomainError ? `${e.kind}/${e.code}` : `thrown ${String(e)}`));
const now = new Date('2026-11-30T10:00:00.000Z');

async function family() {
  const w = proxyWorld();
  await w.seed('P-1', {}, { accountId: 'acc-child', username: 'child' });
  await w.seed('P-2', { cases: ['C-9'] }, { accountId: 'acc-parent', username: 'parent' });
  // The parent (own record P-2) acts for the child (P-1).
  await w.putGrant(aGrant({ accountId: 'acc-parent' }));
  await w.putReach({ accountId: 'acc-parent', patientId: 'P-1', proxyId: 'g-1', role: 'proxy' });
  return w;
}

describe('rule 32: resolveAccess', () => {
  it('the record\'s own login: self, full', async () => {
    const w = await family();
    expect(await resolveAccess(w.deps, { accountId: 'acc-child' }, 'P-1')).toMatchObject({ role: 'self', scope: 'full' });
  });

  it('an Active grant naming the login: proxy, with the grant\'s scope', async () => {
    const w = await family();
    const a = await resolveAccess(w.deps, { accountId: 'acc-parent' }, 'P-1');
    expect(a).toMatchObject({ role: 'proxy', scope: 'full', grant: { proxyId: 'g-1' } });
    await w.putGrant(aGrant({ accountId: 'acc-parent', scope: 'limited' }));
    expect((await resolveAccess(w.deps, { accountId: 'acc-parent' }, 'P-1')).scope).toBe('limited');
  });

  it('another login, a missing record, access off: 403 no-access, the same for each', async () => {
    const w = await family();
    expect(await codeOf(resolveAccess(w.deps, { accountId: 'acc-stranger' }, 'P-1'))).toBe('forbidden/no-access');
    expect(await codeOf(resolveAccess(w.deps, { accountId: 'acc-parent' }, 'P-404'))).toBe('forbidden/no-access');
    await w.putRecord({ ...(await w.record('P-1'))!, accessEnabled: false });
    expect(await codeOf(resolveAccess(w.deps, { accountId: 'acc-parent' }, 'P-1'))).toBe('forbidden/no-access');
    expect(await codeOf(resolveAccess(w.deps, { accountId: 'acc-child' }, 'P-1'))).toBe('forbidden/no-access');
  });

  it('the own login while it must change its password is not "self" (and has no grant): refused', async () => {
    const w = await family();
    const rec = (await w.record('P-1'))!;
    await w.putRecord({ ...rec, login: { ...(rec.login ?? {}), mustChangePassword: true } } as never);
    expect(await codeOf(resolveAccess(w.deps, { accountId: 'acc-child' }, 'P-1'))).toBe('forbidden/no-access');
    await w.putRecord({ ...rec, login: { ...(rec.login ?? {}), mustChangePassword: false } } as never);
    expect((await resolveAccess(w.deps, { accountId: 'acc-child' }, 'P-1')).role).toBe('self');
  });

  it('a login side that says "self" for a record whose login is another: refused (the record decides self)', async () => {
    const w = await family();
    await w.putReach({ accountId: 'acc-x', patientId: 'P-1', proxyId: 'g-1', role: 'self' });
    await w.putGrant(aGrant({ accountId: 'acc-x' }));
    expect(await codeOf(resolveAccess(w.deps, { accountId: 'acc-x' }, 'P-1'))).toBe('forbidden/no-access');
  });

  it('the grant ended, lapsed (until now or before), or naming another login: refused at once, without any write', async () => {
    const w = await family();
    await w.putGrant(aGrant({ accountId: 'acc-parent', until: '2026-11-30T10:00:00.001Z' }));
    expect((await resolveAccess(w.deps, { accountId: 'acc-parent' }, 'P-1')).role).toBe('proxy');
    w.advance(1);
    expect(await codeOf(resolveAccess(w.deps, { accountId: 'acc-parent' }, 'P-1'))).toBe('forbidden/no-access');
    await w.putGrant(aGrant({ accountId: 'acc-parent', status: 'Ended' }));
    expect(await codeOf(resolveAccess(w.deps, { accountId: 'acc-parent' }, 'P-1'))).toBe('forbidden/no-access');
    await w.putGrant(aGrant({ accountId: 'acc-other' }));
    expect(await codeOf(resolveAccess(w.deps, { accountId: 'acc-parent' }, 'P-1'))).toBe('forbidden/no-access');
  });
});

describe('rule 32: opening a record', () => {
  it('a proxy\'s opening is audited on the record naming the login, the grant and the scope; the owner\'s is not', async () => {
    const w = await family();
    const seen = await openRecord(w.deps, { accountId: 'acc-parent', sourceIp: '198.51.100.4' }, 'P-1');
    expect(seen).toEqual({ patientId: 'P-1', role: 'proxy', relationship: 'parent', proxyId: 'g-1', scope: 'full', cases: ['C-1', 'C-2'] });
    expect(w.appended).toEqual([
      expect.objectContaining({
        target: 'patient:P-1',
        actor: 'patient:acc-parent',
        sourceIp: '198.51.100.4',
        action: 'proxy.record-opened',
        at: now.toISOString(),
        detail: { proxyId: 'g-1', accountId: 'acc-parent', scope: 'full' },
      }),
    ]);
    expect(await openRecord(w.deps, { accountId: 'acc-child', sourceIp: '198.51.100.5' }, 'P-1')).toMatchObject({ role: 'self' });
    expect(w.appended).toHaveLength(1);
  });

  it('refused openings are not audited as openings', async () => {
    const w = await family();
    expect(await codeOf(openRecord(w.deps, { accountId: 'acc-stranger', sourceIp: '198.51.100.4' }, 'P-1'))).toBe('forbidden/no-access');
    expect(w.appended).toEqual([]);
  });
});

describe('rule 32: the records a login reaches (GET /account)', () => {
  it('home record first, then the others; ended and lapsed grants drop out', async () => {
    const w = await family();
    await w.seed('P-0', { cases: [] });
    await w.putGrant(aGrant({ patientId: 'P-0', proxyId: 'g-0', accountId: 'acc-parent', scope: 'limited', until: '2026-12-01T00:00:00.000Z' }));
    await w.putReach({ accountId: 'acc-parent', patientId: 'P-0', proxyId: 'g-0', role: 'proxy', until: '2026-12-01T00:00:00.000Z' });
    const records = await recordsOf(w.deps, { accountId: 'acc-parent', patientId: 'P-2' });
    expect(records.map((r) => [r.patientId, r.role, r.scope])).toEqual([
      ['P-2', 'self', 'full'],
      ['P-0', 'proxy', 'limited'],
      ['P-1', 'proxy', 'full'],
    ]);
    expect(records[1]).toMatchObject({ until: '2026-12-01T00:00:00.000Z', cases: [] });
    w.advance(24 * 60 * 60 * 1000);
    await w.putGrant(aGrant({ accountId: 'acc-parent', status: 'Ended' }));
    expect(await recordsOf(w.deps, { accountId: 'acc-parent', patientId: 'P-2' })).toEqual([expect.objectContaining({ patientId: 'P-2', role: 'self' })]);
  });

  it('a proxy-only login (no home record) lists only what it reaches', async () => {
    const w = await family();
    await w.putGrant(aGrant({ accountId: 'acc-only' }));
    await w.putReach({ accountId: 'acc-only', patientId: 'P-1', proxyId: 'g-1', role: 'proxy' });
    expect((await recordsOf(w.deps, { accountId: 'acc-only', patientId: '' })).map((r) => r.patientId)).toEqual(['P-1']);
  });

  it('a backend failure is not an empty list: it is thrown', async () => {
    const w = await family();
    const store = { ...w.store, getRecord: async () => Promise.reject(new Error('down')) };
    expect(await codeOf(recordsOf({ ...w.deps, store }, { accountId: 'acc-parent', patientId: 'P-2' }))).toBe('thrown Error: down');
    const other = { ...w.store, getRecord: async () => Promise.reject(new DomainError('conflict', 'other', 'x')) };
    expect(await codeOf(recordsOf({ ...w.deps, store: other }, { accountId: 'acc-parent', patientId: 'P-2' }))).toBe('conflict/other');
  });
});

describe('what a grant looks like (proxyView, recordFor)', () => {
  it('Invited: its expiry; Active: accepted and login; never the email; until only when set', () => {
    const invited = proxyView(aGrant({ status: 'Invited', accountId: undefined, acceptedAt: undefined, expiresAt: '2026-12-14T00:00:00.000Z' }), now);
    expect(invited).toEqual({
      proxyId: 'g-1',
      name: 'Pat Parent',
      relationship: 'parent',
      scope: 'full',
      status: 'Invited',
      invitedAt: '2026-11-01T00:00:00.000Z',
      expiresAt: '2026-12-14T00:00:00.000Z',
    });
    const active = proxyView(aGrant({ expiresAt: '2026-12-14T00:00:00.000Z', until: '2026-12-31T00:00:00.000Z' }), now);
    expect(active).toEqual({
      proxyId: 'g-1',
      name: 'Pat Parent',
      relationship: 'parent',
      scope: 'full',
      until: '2026-12-31T00:00:00.000Z',
      status: 'Active',
      accountId: 'acc-proxy',
      invitedAt: '2026-11-01T00:00:00.000Z',
      acceptedAt: '2026-11-02T00:00:00.000Z',
    });
    const ended = proxyView(aGrant({ status: 'Ended', endedAt: '2026-11-20T00:00:00.000Z', until: '2026-11-10T00:00:00.000Z' }), now);
    expect(ended).toMatchObject({ status: 'Ended', endedAt: '2026-11-20T00:00:00.000Z' });
  });

  it('an Active grant whose until is exactly now reads Ended; an Invited one with a passed until stays Invited', () => {
    expect(proxyView(aGrant({ until: now.toISOString() }), now)).toMatchObject({ status: 'Ended', endedAt: now.toISOString() });
    expect(proxyView(aGrant({ until: '2026-11-30T10:00:00.001Z' }), now)).not.toHaveProperty('endedAt');
    const invited = proxyView(aGrant({ status: 'Invited', until: '2026-11-01T00:00:00.000Z' }), now);
    expect(invited.status).toBe('Invited');
    expect(invited).not.toHaveProperty('endedAt');
  });

  it('recordFor: a proxy sees its grant\'s relationship, id and until; self none of these', () => {
    const record = { patientId: 'P-1', cases: ['C-1'] } as never;
    expect(recordFor({ record, role: 'proxy', scope: 'full', grant: aGrant({ until: '2026-12-31T00:00:00.000Z' }) })).toEqual({
      patientId: 'P-1',
      role: 'proxy',
      relationship: 'parent',
      proxyId: 'g-1',
      scope: 'full',
      until: '2026-12-31T00:00:00.000Z',
      cases: ['C-1'],
    });
  });

  it('only a login with a home record manages proxies', () => {
    expect(() => homeRecordOf({ patientId: '' })).toThrow(expect.objectContaining({ kind: 'forbidden', code: 'self-only' }));
  });
});

describe('the proxy link subject and its audit', () => {
  it('an audit under a staff target or a patient target without "#" is left as it is', () => {
    const staffEvent = auditEvent({ id: 'x', sourceIp: 'y' }, 'staff:a#b', 'a', now);
    expect(auditForSubject(staffEvent)).toBe(staffEvent);
  });

  it('subjectRecords reads the patient\'s record for a subject and files audits on the patient', async () => {
    const w = await family();
    const records = subjectRecords(w.store);
    expect((await records.getRecord('P-1#g-1'))?.patientId).toBe('P-1');
    await records.appendAudit(auditEvent({ id: 'anonymous', sourceIp: 'y' }, 'patient:P-1#g-1', 'proxy.wrong-pin', now));
    expect(w.appended).toEqual([expect.objectContaining({ target: 'patient:P-1', detail: { proxyId: 'g-1' } })]);
  });

  it('proxyLinkPending: a pending unexpired link only', () => {
    expect(proxyLinkPending(undefined, now)).toBe(false);
    const state = { status: 'Pending', expiresAt: '2026-12-01T00:00:00.000Z', failures: 0 } as never;
    expect(proxyLinkPending(state, now)).toBe(true);
    expect(proxyLinkPending({ ...(state as object), expiresAt: now.toISOString() } as never, now)).toBe(false);
  });
});
