/** Practice settings (domain: lambdas/domain/settings.ts). */
import { Settings, SettingsChange } from '../../lambdas/schemas/settings.ts';
import { route, type Route } from './types.ts';
import { SettingsView } from '../../lambdas/schemas/phone-code.ts';

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
    responses: { 200: SettingsView },
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
    responses: { 200: Settings },
  }),
] as const satisfies readonly Route[];
