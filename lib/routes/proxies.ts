/**
 * Proxy (caregiver) access (issue 18, rule 32; domain: lambdas/domain/proxies.ts). Staff invite,
 * list and end a record's proxies; the patient (their own login, role self) does the same for
 * their own record under /account/proxies; a login opens one record it reaches with
 * GET /account/records/{patientId}, which resolves "may this login act on this record, now?".
 * Registering with a proxy link is POST /registrations (lib/routes/registration.ts).
 */
import { PatientParams } from '../../lambdas/schemas/portal-record.ts';
import { AccountProxyParams, AccountRecordParams, ProxyInvite, StaffProxyParams } from '../../lambdas/schemas/proxy.ts';
import { route, schemaOf, type Route } from './types.ts';

export const proxyRoutes = [
  route({
    id: 'proxy-invite',
    method: 'POST',
    path: '/patients/{patientId}/portal/proxies',
    entry: 'lambdas/handlers/proxies/invite.ts',
    caller: 'staff',
    grants: ['records:write', 'audit:append', 'mail:send'],
    summary:
      'Invite a proxy (caregiver): a registration link by email to the proxy, the PIN answered once for staff to hand over. Inviting the same address again while its invitation is out replaces it. 403 without invite permission, 409 access disabled (or "self" for a record that has a login)',
    request: { params: PatientParams, body: ProxyInvite },
    responses: { 201: schemaOf('proxy', 'ProxyInvited') },
    problems: [409],
  }),
  route({
    id: 'proxy-list',
    method: 'GET',
    path: '/patients/{patientId}/portal/proxies',
    entry: 'lambdas/handlers/proxies/list.ts',
    caller: 'staff',
    grants: ['records:read'],
    summary: "The record's proxies, oldest invitation first",
    request: { params: PatientParams },
    responses: { 200: schemaOf('proxy', 'ProxyList') },
  }),
  route({
    id: 'proxy-end',
    method: 'DELETE',
    path: '/patients/{patientId}/portal/proxies/{proxyId}',
    entry: 'lambdas/handlers/proxies/end.ts',
    caller: 'staff',
    grants: ['records:write', 'audit:append'],
    summary: "End a proxy's access now: their next request for this record is refused (rule 32); an invited proxy's link stops working. 404 no such proxy",
    request: { params: StaffProxyParams },
    responses: { 200: schemaOf('proxy', 'ProxyItem') },
    problems: [409],
  }),
  route({
    id: 'account-proxies-list',
    method: 'GET',
    path: '/account/proxies',
    entry: 'lambdas/handlers/proxies/account-list.ts',
    caller: 'patient',
    grants: ['records:read'],
    summary: 'Who can act for me: the proxies of the signed-in patient\'s own record. 403 for a login that has no record of its own',
    request: {},
    responses: { 200: schemaOf('proxy', 'ProxyList') },
    problems: [403],
  }),
  route({
    id: 'account-proxy-invite',
    method: 'POST',
    path: '/account/proxies',
    entry: 'lambdas/handlers/proxies/account-invite.ts',
    caller: 'patient',
    grants: ['records:write', 'audit:append', 'mail:send'],
    summary: 'The patient invites a proxy for their own record; the PIN is answered to the patient to pass on. 403 for a login that has no record of its own',
    request: { body: ProxyInvite },
    responses: { 201: schemaOf('proxy', 'ProxyInvited') },
    problems: [403, 409],
  }),
  route({
    id: 'account-proxy-end',
    method: 'DELETE',
    path: '/account/proxies/{proxyId}',
    entry: 'lambdas/handlers/proxies/account-end.ts',
    caller: 'patient',
    grants: ['records:write', 'audit:append'],
    summary: "The patient ends a proxy's access to their record now (rule 32). 404 no such proxy of this record, 403 for a login that has no record of its own",
    request: { params: AccountProxyParams },
    responses: { 200: schemaOf('proxy', 'ProxyItem') },
    problems: [403, 404, 409],
  }),
  route({
    id: 'account-record-get',
    method: 'GET',
    path: '/account/records/{patientId}',
    entry: 'lambdas/handlers/proxies/record-get.ts',
    caller: 'patient',
    // audit:append: a proxy's opening of a record is audited on that record.
    grants: ['records:read', 'audit:append'],
    summary:
      "Open one record this login reaches (its own, or as a proxy): the record as the login's role and scope allow. 403 when the login may not act on it now (a grant ended or its until passed, access off, or never granted)",
    request: { params: AccountRecordParams },
    responses: { 200: schemaOf('proxy', 'AccountRecord') },
    problems: [403],
  }),
] as const satisfies readonly Route[];
