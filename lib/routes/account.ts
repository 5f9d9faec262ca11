/** The signed-in patient's account: read it, its last sign-ins, change password and/or username. */
import { CredentialsChange } from '../../lambdas/schemas/session.ts';
import { route, schemaOf, type Route } from './types.ts';

export const accountRoutes = [
  route({
    id: 'account-get',
    method: 'GET',
    path: '/account',
    entry: 'lambdas/handlers/account/get.ts',
    caller: 'patient',
    grants: ['records:read'],
    summary: "The signed-in login's account: its own record's username, email and cases, and `records`, every record it may act on now (its own, role self; others as a proxy, with relationship, scope and until)",
    request: {},
    responses: { 200: schemaOf('proxy', 'AccountView') },
  }),
  route({
    id: 'account-sign-ins',
    method: 'GET',
    path: '/account/sign-ins',
    entry: 'lambdas/handlers/account/sign-ins.ts',
    caller: 'patient',
    grants: ['records:read', 'audit:read'],
    summary: "The last sign-ins to the signed-in patient's login (time, outcome in words, source address), newest first, from the audit trail",
    request: {},
    responses: { 200: schemaOf('account-sign-ins', 'AccountSignIns') },
  }),
  route({
    id: 'account-credentials',
    method: 'PUT',
    path: '/account/credentials',
    entry: 'lambdas/handlers/account/credentials.ts',
    caller: 'patient',
    // mail:send: the "credentials were changed" notice (security rule 15).
    grants: ['records:write', 'audit:append', 'patientPool:reset', 'mail:send', 'patientPool:signIn'],
    summary: 'Change password and/or username with the current password; every other session ends; a notice is emailed; answers fresh tokens',
    request: { body: CredentialsChange },
    responses: { 200: schemaOf('staff', 'Tokens') },
  }),
] as const satisfies readonly Route[];
