import { describe, expect, it } from 'vitest';
import { auditEvent } from '../../../lambdas/domain/audit.ts';
import { DomainError } from '../../../lambdas/domain/errors.ts';
import {
  auditForSubject,
  grantActiveFor,
  homeRecordOf,
  isProxyToken,
  linkSubject,
  patientOfSubject,
  proxyLinkPolicy,
  proxyView,
  recordFor,
  type ProxyGrant,
} from '../../../lambdas/domain/proxies.ts';
import { newRecord, type StoredRecord } from '../../../lambdas/domain/portal-record.ts';

const now = new Date('2026-11-30T10:00:00.000Z');
const grant = (over: Partial<ProxyGrant> = {}): ProxyGrant => ({
  proxyId: 'g-1',
  patientId: 'P-1',
  name: 'Pat Parent',
  email: 'parent@example.test',
  relationship: 'parent',
  scope: 'full',
  status: 'Active',
  accountId: 'acc-1',
  invitedAt: '2026-11-01T00:00:00.000Z',
  invitedBy: 'frontdesk',
  acceptedAt: '2026-11-02T00:00:00.000Z',
  version: 2,
  ...over,
});
const record: StoredRecord = { ...newRecord('P-1', now), cases: ['C-1', 'C-2'], accountId: 'acc-child', version: 3 };

describe('rule 32: an active grant, now', () => {
  it('rule 32: active for its own login only, until `until` passes, never once Ended or while Invited', () => {
    expect(grantActiveFor(grant(), 'acc-1', now)).toBe(true);
    expect(grantActiveFor(grant(), 'acc-2', now)).toBe(false);
    expect(grantActiveFor(grant({ until: '2026-11-30T10:00:01.000Z' }), 'acc-1', now)).toBe(true);
    expect(grantActiveFor(grant({ until: '2026-11-30T10:00:00.000Z' }), 'acc-1', now)).toBe(false);
    expect(grantActiveFor(grant({ until: '2026-11-29T00:00:00.000Z' }), 'acc-1', now)).toBe(false);
    expect(grantActiveFor(grant({ status: 'Ended', endedAt: '2026-11-03T00:00:00.000Z' }), 'acc-1', now)).toBe(false);
    expect(grantActiveFor(grant({ status: 'Invited' }), 'acc-1', now)).toBe(false);
    expect(grantActiveFor(undefined, 'acc-1', now)).toBe(false);
  });

  it('a grant whose `until` passed reads Ended (endedAt = until), and the view never carries the email', () => {
    const view = proxyView(grant({ until: '2026-11-29T00:00:00.000Z' }), now);
    expect(view).toMatchObject({ status: 'Ended', endedAt: '2026-11-29T00:00:00.000Z' });
    expect(JSON.stringify(view)).not.toContain('parent@example.test');
  });
});

describe('scope', () => {
  it('"full" sees the record\'s cases, "limited" does not; self is full', () => {
    expect(recordFor({ record, role: 'proxy', scope: 'full', grant: grant() })).toMatchObject({ role: 'proxy', scope: 'full', cases: ['C-1', 'C-2'], relationship: 'parent' });
    expect(recordFor({ record, role: 'proxy', scope: 'limited', grant: grant({ scope: 'limited' }) }).cases).toEqual([]);
    expect(recordFor({ record, role: 'self', scope: 'full' })).toEqual({ patientId: 'P-1', role: 'self', scope: 'full', cases: ['C-1', 'C-2'] });
  });

  it('only a login with a record of its own manages proxies (a proxy-only login is refused)', () => {
    expect(homeRecordOf({ patientId: 'P-1' })).toBe('P-1');
    expect(() => homeRecordOf({ patientId: '' })).toThrow(DomainError);
  });
});

describe('the proxy link', () => {
  it('tokens are told apart by their prefix; a link subject names the record and the grant', () => {
    expect(isProxyToken('px.abc')).toBe(true);
    expect(isProxyToken('abc')).toBe(false);
    expect(patientOfSubject(linkSubject('P-1', 'g-1'))).toBe('P-1');
  });

  it('audit entries filed under a subject go to the patient\'s trail, naming the proxy', () => {
    const moved = auditForSubject(auditEvent({ id: 'anonymous', sourceIp: '198.51.100.1' }, 'patient:P-1#g-1', 'proxy.wrong-pin', now, { failures: 1 }, 'failure'));
    expect(moved).toMatchObject({ target: 'patient:P-1', detail: { failures: 1, proxyId: 'g-1' } });
    const plain = auditEvent({ id: 'x', sourceIp: 'y' }, 'patient:P-2', 'a', now);
    expect(auditForSubject(plain)).toBe(plain);
  });

  it('a "self" link dies once the record has a login; any link dies with access off', () => {
    const state = (relationship: string) => ({ data: { proxyId: 'g-1', relationship } }) as never;
    expect(proxyLinkPolicy.recordAllows({ ...record, accountId: undefined }, state('self'))).toBe(true);
    expect(proxyLinkPolicy.recordAllows(record, state('self'))).toBe(false);
    expect(proxyLinkPolicy.recordAllows(record, state('parent'))).toBe(true);
    expect(proxyLinkPolicy.recordAllows({ ...record, accessEnabled: false }, state('parent'))).toBe(false);
  });
});
