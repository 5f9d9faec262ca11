/**
 * Inviting, listing and ending proxies (rule 32; issue 18), over the real adapter on the
 * in-memory DynamoDB: who may invite, what is stored and emailed (never the PIN), what a second
 * invitation to the same address does, and that ending refuses the proxy's next request at once.
 */
import { describe, expect, it } from 'vitest';
import { DomainError } from '../../../lambdas/domain/errors.ts';
import { checkProxyInvitation, endProxy, inviteProxy, listProxies, resolveAccess } from '../../../lambdas/domain/proxies.ts';
import { aGrant, DAY, proxyWorld, staff, staffNoInvite } from './proxy-harness.ts';

const patientActor = { id: 'patient:acc-child', sourceIp: '198.51.100.9' };
const invite = (over: Record<string, unknown> = {}) => ({ name: 'Pat Parent', email: 'parent@example.test', relationship: 'parent', scope: 'full' as const, ...over });
const codeOf = (p: Promise<unknown>) => p.then(() => 'no error', (e: unknown) => (e instanceof DomainError ? `${e.kind}/${e.code}` : `thrown ${String(e)}`));

describe('rule 32: who may invite a proxy, for which record', () => {
  it('staff without the invite permission are refused, and nothing is stored or sent', async () => {
    const w = proxyWorld();
    await w.seed('P-1');
    expect(await codeOf(inviteProxy(w.deps, { kind: 'staff', actor: staffNoInvite }, 'P-1', invite()))).toBe('forbidden/forbidden');
    expect(await w.proxies.grants('P-1')).toEqual([]);
    expect(w.mail.sent).toEqual([]);
  });

  it('the patient invites for their own record without a staff permission', async () => {
    const w = proxyWorld();
    await w.seed('P-1', {}, { accountId: 'acc-child', username: 'child' });
    const out = await inviteProxy(w.deps, { kind: 'patient', actor: patientActor }, 'P-1', invite());
    expect(out.delivery).toBe('Sent');
    const [g] = await w.proxies.grants('P-1');
    expect(g).toMatchObject({ proxyId: out.proxyId, invitedBy: 'patient:acc-child', status: 'Invited' });
    expect(w.audits().find((a) => a.action === 'proxy.invited')).toMatchObject({ actor: 'patient:acc-child', detail: { by: 'patient' } });
  });

  it('a record that does not exist: 404; access off: 409 access-disabled; nothing stored', async () => {
    const w = proxyWorld();
    expect(await codeOf(inviteProxy(w.deps, { kind: 'staff', actor: staff }, 'P-9', invite()))).toBe('not-found/not-found');
    await w.seed('P-2', { accessEnabled: false });
    expect(await codeOf(inviteProxy(w.deps, { kind: 'staff', actor: staff }, 'P-2', invite()))).toBe('conflict/access-disabled');
    expect(await w.proxies.grants('P-2')).toEqual([]);
    expect(w.mail.sent).toEqual([]);
  });

  it('"self" is refused for a record that has its own login, allowed (any case, spaces) for one that has none', async () => {
    const w = proxyWorld();
    await w.seed('P-1', {}, { accountId: 'acc-child', username: 'child' });
    expect(await codeOf(inviteProxy(w.deps, { kind: 'staff', actor: staff }, 'P-1', invite({ relationship: ' Self ' })))).toBe('conflict/already-registered');
    expect(await codeOf(inviteProxy(w.deps, { kind: 'staff', actor: staff }, 'P-1', invite({ relationship: 'parent' })))).toBe('no error');
    await w.seed('P-2');
    await inviteProxy(w.deps, { kind: 'staff', actor: staff }, 'P-2', invite({ relationship: ' Self ' }));
    expect(w.audits().filter((a) => a.action === 'proxy.invited').map((a) => a.detail.self)).toEqual([false, true]);
  });

  it('`until` must be after now (equal is refused), and is stored normalised to ISO', async () => {
    const w = proxyWorld();
    await w.seed('P-1');
    const at = w.clock().toISOString();
    expect(await codeOf(inviteProxy(w.deps, { kind: 'staff', actor: staff }, 'P-1', invite({ until: at })))).toBe('bad-request/validation-error');
    expect(await codeOf(inviteProxy(w.deps, { kind: 'staff', actor: staff }, 'P-1', invite({ until: '2026-11-29T10:00:00Z' })))).toBe('bad-request/validation-error');
    expect(await w.proxies.grants('P-1')).toEqual([]);
    const out = await inviteProxy(w.deps, { kind: 'staff', actor: staff }, 'P-1', invite({ until: '2026-12-31T12:00:00+01:00' }));
    expect(await w.grant('P-1', out.proxyId)).toMatchObject({ until: '2026-12-31T11:00:00.000Z' });
    expect(w.audits().find((a) => a.action === 'proxy.invited')?.detail).toMatchObject({ hasUntil: true });
    const link = await w.proxies.links.get(`P-1#${out.proxyId}`);
    expect(link?.data).toEqual({ proxyId: out.proxyId, relationship: 'parent', until: '2026-12-31T11:00:00.000Z' });
  });
});

describe('an invitation: what is stored, emailed and answered', () => {
  it('stores an Invited grant (trimmed email, never shown), emails the px. link without the PIN, answers the PIN once', async () => {
    const w = proxyWorld();
    await w.seed('P-1');
    const out = await inviteProxy(w.deps, { kind: 'staff', actor: staff }, 'P-1', invite({ email: '  parent@example.test ', scope: 'limited' }));
    expect(out.pin).toMatch(/^\S{6}$/);
    expect(out.expiresAt).toBe(new Date(w.clock().getTime() + 14 * DAY).toISOString());
    const g = await w.grant('P-1', out.proxyId);
    expect(g).toMatchObject({
      proxyId: out.proxyId,
      patientId: 'P-1',
      name: 'Pat Parent',
      email: 'parent@example.test',
      relationship: 'parent',
      scope: 'limited',
      status: 'Invited',
      invitedAt: w.clock().toISOString(),
      invitedBy: 'frontdesk',
      expiresAt: out.expiresAt,
      delivery: 'Sent',
      version: 1,
    });
    expect(g).not.toHaveProperty('until');
    expect(w.mail.sent).toHaveLength(1);
    const email = w.mail.sent[0]!;
    expect(email.to).toBe('parent@example.test');
    expect(email.text).not.toContain(out.pin);
    expect(w.tokenFor('parent@example.test')).toMatch(/^px\./);
    expect(email.text).toContain('https://portal.maple.test/portal/register#token=px.');
    const audit = w.audits().find((a) => a.action === 'proxy.invited')!;
    expect(audit).toMatchObject({ target: 'patient:P-1', actor: 'frontdesk', detail: { proxyId: out.proxyId, scope: 'limited', by: 'staff', self: false, hasUntil: false } });
    expect(audit.detail).not.toHaveProperty('replaced');
    expect(JSON.stringify(w.audits())).not.toContain('parent@example.test');
    expect(JSON.stringify(w.audits())).not.toContain(out.pin);
  });

  it('the link lives settings.invitationDays', async () => {
    const w = proxyWorld();
    w.setSettings({ invitationDays: 3 });
    await w.seed('P-1');
    const out = await inviteProxy(w.deps, { kind: 'staff', actor: staff }, 'P-1', invite());
    expect(out.expiresAt).toBe(new Date(w.clock().getTime() + 3 * DAY).toISOString());
  });

  it('a failed email: answered Failed, the grant stays Failed, audited as a failure, warned without the address', async () => {
    const w = proxyWorld();
    await w.seed('P-1');
    w.mail.fail(true);
    const out = await inviteProxy(w.deps, { kind: 'staff', actor: staff }, 'P-1', invite());
    expect(out.delivery).toBe('Failed');
    expect(await w.grant('P-1', out.proxyId)).toMatchObject({ status: 'Invited', delivery: 'Failed' });
    expect(w.appended).toEqual([
      expect.objectContaining({ action: 'proxy.invitation-emailed', outcome: 'failure', target: 'patient:P-1', detail: { proxyId: out.proxyId, delivery: 'Failed' } }),
    ]);
    expect(w.warnings).toEqual([{ msg: 'proxy invitation email failed', fields: { errorName: 'MessageRejected' } }]);
  });

  it('a failed email whose audit also fails still answers Failed; a mailer throwing a non-Error warns "unknown"', async () => {
    const w = proxyWorld();
    await w.seed('P-1');
    const deps = {
      ...w.deps,
      mailer: { send: async () => Promise.reject('no') },
      store: { ...w.store, appendAudit: async () => Promise.reject(new Error('audit down')) },
    };
    const out = await inviteProxy(deps, { kind: 'staff', actor: staff }, 'P-1', invite());
    expect(out.delivery).toBe('Failed');
    expect(w.warnings).toEqual([{ msg: 'proxy invitation email failed', fields: { errorName: 'unknown' } }]);
  });

  it('delivery not recorded (the mark fails): still Sent to the caller, warned', async () => {
    const w = proxyWorld();
    await w.seed('P-1');
    const failing = { ...w.proxies, markDelivery: async () => Promise.reject(Object.assign(new Error('x'), { name: 'ServiceUnavailable' })) };
    const out = await inviteProxy({ ...w.deps, proxies: failing }, { kind: 'staff', actor: staff }, 'P-1', invite());
    expect(out.delivery).toBe('Sent');
    expect(w.warnings).toEqual([{ msg: 'proxy invitation delivery not recorded', fields: { errorName: 'ServiceUnavailable' } }]);
    const other = { ...w.proxies, markDelivery: async () => Promise.reject('x') };
    await inviteProxy({ ...w.deps, proxies: other }, { kind: 'staff', actor: staff }, 'P-1', invite({ email: 'b@example.test' }));
    expect(w.warnings[1]).toEqual({ msg: 'proxy invitation delivery not recorded', fields: { errorName: 'unknown' } });
  });

  it('without a warn sink, failures are still answered (no throw)', async () => {
    const w = proxyWorld();
    await w.seed('P-1');
    w.mail.fail(true);
    const { warn: _warn, ...deps } = w.deps;
    expect((await inviteProxy(deps, { kind: 'staff', actor: staff }, 'P-1', invite())).delivery).toBe('Failed');
    const failing = { ...w.proxies, markDelivery: async () => Promise.reject(new Error('x')) };
    w.mail.fail(false);
    expect((await inviteProxy({ ...deps, proxies: failing }, { kind: 'staff', actor: staff }, 'P-1', invite({ email: 'c@example.test' }))).delivery).toBe('Sent');
  });
});

describe('inviting the same address again while the first invitation is out (rule 32, link life)', () => {
  it('replaces it: the first grant reads Ended (by this actor), its link is dead, the audit names it; one invitation remains', async () => {
    const w = proxyWorld();
    await w.seed('P-1');
    const first = await inviteProxy(w.deps, { kind: 'staff', actor: staff }, 'P-1', invite());
    const firstToken = w.tokenFor('parent@example.test');
    w.advance(60_000);
    const second = await inviteProxy(w.deps, { kind: 'patient', actor: patientActor }, 'P-1', invite({ email: 'PARENT@example.test' }));
    const old = await w.grant('P-1', first.proxyId);
    expect(old).toMatchObject({ status: 'Ended', endedAt: w.clock().toISOString(), endedBy: 'patient:acc-child', version: 2 });
    expect(old).not.toHaveProperty('expiresAt');
    expect((await w.proxies.links.get(`P-1#${first.proxyId}`))?.status).toBe('Cancelled');
    expect(await codeOf(checkProxyInvitation(w.reg, firstToken, '198.51.100.1'))).toBe('gone/invitation-gone');
    const audit = w.audits().filter((a) => a.action === 'proxy.invited').at(-1)!;
    expect(audit.detail).toMatchObject({ proxyId: second.proxyId, replaced: first.proxyId });
    const statuses = (await w.proxies.grants('P-1')).map((g) => g.status).sort();
    expect(statuses).toEqual(['Ended', 'Invited']);
  });

  it('another address, an Active grant or an Ended one to the same address are not replaced', async () => {
    const w = proxyWorld();
    await w.seed('P-1');
    await w.putGrant(aGrant({ proxyId: 'active', email: 'parent@example.test' }));
    await w.putGrant(aGrant({ proxyId: 'ended', status: 'Ended', email: 'parent@example.test' }));
    const other = await inviteProxy(w.deps, { kind: 'staff', actor: staff }, 'P-1', invite({ email: 'other@example.test' }));
    await inviteProxy(w.deps, { kind: 'staff', actor: staff }, 'P-1', invite());
    expect(await w.grant('P-1', 'active')).toMatchObject({ status: 'Active', version: 2 });
    expect(await w.grant('P-1', other.proxyId)).toMatchObject({ status: 'Invited' });
    expect(w.audits().filter((a) => a.action === 'proxy.invited').every((a) => !('replaced' in a.detail))).toBe(true);
  });

  it('an Invited grant whose link was already used up is ended without touching that link', async () => {
    const w = proxyWorld();
    await w.seed('P-1');
    const first = await inviteProxy(w.deps, { kind: 'staff', actor: staff }, 'P-1', invite());
    const subject = `P-1#${first.proxyId}`;
    const state = (await w.proxies.links.get(subject))!;
    // The link locked by wrong PINs (status no longer Pending).
    await w.db.send(new (await import('@aws-sdk/lib-dynamodb')).PutCommand({ TableName: 'records', Item: { ...(w.db.table('records').get(`PROXYINVITE#${subject}|STATE`) as object), status: 'Locked' } }));
    await inviteProxy(w.deps, { kind: 'staff', actor: staff }, 'P-1', invite());
    expect((await w.proxies.links.get(subject))?.status).toBe('Locked');
    expect((await w.proxies.links.get(subject))?.version).toBe(state.version);
    expect(await w.grant('P-1', first.proxyId)).toMatchObject({ status: 'Ended' });
  });
});

describe('listing proxies', () => {
  it('oldest invitation first, as views (no email); 404 only when the record is required and missing', async () => {
    const w = proxyWorld();
    await w.putGrant(aGrant({ proxyId: 'b', invitedAt: '2026-11-03T00:00:00.000Z' }));
    await w.putGrant(aGrant({ proxyId: 'a', invitedAt: '2026-11-02T00:00:00.000Z' }));
    await w.putGrant(aGrant({ proxyId: 'c', invitedAt: '2026-11-01T00:00:00.000Z' }));
    expect(await codeOf(listProxies(w.deps, 'P-1', { requireRecord: true }))).toBe('not-found/not-found');
    const { items } = await listProxies(w.deps, 'P-1', { requireRecord: false });
    expect(items.map((i) => i.proxyId)).toEqual(['c', 'a', 'b']);
    expect(JSON.stringify(items)).not.toContain('@');
    await w.seed('P-1');
    expect((await listProxies(w.deps, 'P-1', { requireRecord: true })).items).toHaveLength(3);
  });

  it('a grant whose until passed lists as Ended, by the clock of the request', async () => {
    const w = proxyWorld();
    await w.seed('P-1');
    await w.putGrant(aGrant({ until: '2026-11-30T11:00:00.000Z' }));
    expect((await listProxies(w.deps, 'P-1', { requireRecord: true })).items[0]?.status).toBe('Active');
    w.advance(60 * 60 * 1000);
    expect((await listProxies(w.deps, 'P-1', { requireRecord: true })).items[0]).toMatchObject({ status: 'Ended', endedAt: '2026-11-30T11:00:00.000Z' });
  });
});

describe('rule 32: ending a proxy refuses their next request at once', () => {
  async function activeProxy() {
    const w = proxyWorld();
    await w.seed('P-1', {}, { accountId: 'acc-child', username: 'child' });
    await w.putGrant(aGrant());
    await w.putReach({ accountId: 'acc-proxy', patientId: 'P-1', proxyId: 'g-1', role: 'proxy' });
    return w;
  }

  it('an Active proxy: refused after, the grant Ended by the actor, the login side gone, audited with who and what it was', async () => {
    const w = await activeProxy();
    expect((await resolveAccess(w.deps, { accountId: 'acc-proxy' }, 'P-1')).role).toBe('proxy');
    w.advance(1000);
    const view = await endProxy(w.deps, patientActor, 'P-1', 'g-1', 'patient');
    expect(view).toMatchObject({ proxyId: 'g-1', status: 'Ended', endedAt: w.clock().toISOString() });
    expect(await codeOf(resolveAccess(w.deps, { accountId: 'acc-proxy' }, 'P-1'))).toBe('forbidden/no-access');
    expect(await w.grant('P-1', 'g-1')).toMatchObject({ status: 'Ended', endedBy: 'patient:acc-child', version: 3 });
    expect(await w.reach('acc-proxy', 'P-1')).toBeUndefined();
    expect(w.audits().find((a) => a.action === 'proxy.ended')).toMatchObject({
      target: 'patient:P-1',
      actor: 'patient:acc-child',
      detail: { proxyId: 'g-1', by: 'patient', was: 'Active' },
    });
  });

  it('an Invited proxy: its link dies with it (the emailed token then answers 410)', async () => {
    const w = proxyWorld();
    await w.seed('P-1');
    const out = await inviteProxy(w.deps, { kind: 'staff', actor: staff }, 'P-1', invite());
    const token = w.tokenFor('parent@example.test');
    await endProxy(w.deps, staff, 'P-1', out.proxyId, 'staff');
    expect((await w.proxies.links.get(`P-1#${out.proxyId}`))?.status).toBe('Cancelled');
    expect(await codeOf(checkProxyInvitation(w.reg, token, '198.51.100.1'))).toBe('gone/invitation-gone');
    expect(w.audits().find((a) => a.action === 'proxy.ended')?.detail).toMatchObject({ by: 'staff', was: 'Invited' });
    expect(await w.grant('P-1', out.proxyId)).not.toHaveProperty('expiresAt');
  });

  it('an unknown proxy: 404; an Ended one: the same view again, nothing written', async () => {
    const w = await activeProxy();
    expect(await codeOf(endProxy(w.deps, staff, 'P-1', 'nope', 'staff'))).toBe('not-found/not-found');
    await endProxy(w.deps, staff, 'P-1', 'g-1', 'staff');
    const before = await w.grant('P-1', 'g-1');
    const auditsBefore = w.audits().length;
    w.advance(DAY);
    const again = await endProxy(w.deps, staff, 'P-1', 'g-1', 'staff');
    expect(again).toMatchObject({ status: 'Ended', endedAt: before?.endedAt });
    expect(await w.grant('P-1', 'g-1')).toEqual(before);
    expect(w.audits()).toHaveLength(auditsBefore);
  });

  it('a record joined as "self" is not a proxy: 409 self-link, still reaches; an Invited "self" can be ended', async () => {
    const w = proxyWorld();
    await w.seed('P-1', {}, { accountId: 'acc-1', username: 'one' });
    await w.putGrant(aGrant({ relationship: 'Self', accountId: 'acc-1' }));
    expect(await codeOf(endProxy(w.deps, staff, 'P-1', 'g-1', 'staff'))).toBe('conflict/self-link');
    expect(await w.grant('P-1', 'g-1')).toMatchObject({ status: 'Active' });
    await w.putGrant(aGrant({ proxyId: 'g-2', relationship: 'self', status: 'Invited', accountId: undefined }));
    expect((await endProxy(w.deps, staff, 'P-1', 'g-2', 'staff')).status).toBe('Ended');
  });

  it('a concurrent change (the store answers proxy-conflict) is retried on a fresh read; other errors pass through', async () => {
    const w = await activeProxy();
    let calls = 0;
    const flaky = {
      ...w.proxies,
      end: async (change: Parameters<typeof w.proxies.end>[0]) => {
        calls++;
        if (calls === 1) throw new DomainError('conflict', 'proxy-conflict', 'x');
        return w.proxies.end(change);
      },
    };
    expect((await endProxy({ ...w.deps, proxies: flaky }, staff, 'P-1', 'g-1', 'staff')).status).toBe('Ended');
    expect(calls).toBe(2);
    const w2 = await activeProxy();
    const broken = { ...w2.proxies, end: async () => Promise.reject(new DomainError('conflict', 'other', 'x')) };
    expect(await codeOf(endProxy({ ...w2.deps, proxies: broken }, staff, 'P-1', 'g-1', 'staff'))).toBe('conflict/other');
    const down = { ...w2.proxies, end: async () => Promise.reject(new Error('down')) };
    expect(await codeOf(endProxy({ ...w2.deps, proxies: down }, staff, 'P-1', 'g-1', 'staff'))).toBe('thrown Error: down');
  });
});
