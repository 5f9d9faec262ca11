/** Practice settings (domain: lambdas/domain/settings.ts). */
import { SettingsChange } from '../../lambdas/schemas/settings.ts';
import { route, schemaOf, type Route } from './types.ts';

export const settingsRoutes = [
  route({
    id: 'settings-get',
    method: 'GET',
    path: '/settings',
    entry: 'lambdas/handlers/settings/get.ts',
    caller: 'staff',
    grants: ['records:read'],
    summary: 'Practice settings, with phoneCodesAvailable (and why not): whether this deployment can text phone codes',
    request: {},
    responses: { 200: schemaOf('phone-code', 'SettingsView') },
  }),
  route({
    id: 'settings-put',
    method: 'PUT',
    path: '/settings',
    entry: 'lambdas/handlers/settings/put.ts',
    caller: 'admin',
    grants: ['records:write', 'audit:append'],
    summary: 'Change practice settings (any subset of the fields)',
    request: { body: SettingsChange },
    responses: { 200: schemaOf('settings', 'Settings') },
  }),
] as const satisfies readonly Route[];
