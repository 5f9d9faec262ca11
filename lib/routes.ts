/**
 * The route table: the one place a route is declared. The CDK stack makes one Lambda function
 * and one least-privilege role per entry from it; the local server routes requests with it; the
 * handlers take their caller rule and request shapes from it; GET /openapi.json is generated
 * from it. Entries live in lib/routes/<flow>.ts, named like the flow's handler folder
 * (lambdas/handlers/<flow>/) and domain file (lambdas/domain/<flow>.ts); adding a route means
 * adding an entry there and a handler file.
 */
import { foundationRoutes } from './routes/foundation.ts';
import { staffSignInRoutes } from './routes/staff-sign-in.ts';
import { portalRecordRoutes } from './routes/portal-record.ts';
import { settingsRoutes } from './routes/settings.ts';
import { invitationRoutes } from './routes/invitations.ts';
import { registrationRoutes } from './routes/registration.ts';
import { patientSignInRoutes } from './routes/patient-sign-in.ts';
import { accountRoutes } from './routes/account.ts';
import { patientAccessRoutes } from './routes/patient-access.ts';
import { diagnosisRoutes } from './routes/diagnosis.ts';
import { lobbyRoutes } from './routes/lobby.ts';
import { resetRoutes } from './routes/resets.ts';
import { emailMatchRoutes } from './routes/email-match.ts';
import { autoInviteRoutes } from './routes/auto-invite.ts';
import { pageRoutes } from './routes/pages.ts';
import { staffAdminRoutes } from './routes/staff-admin.ts';
import { proxyRoutes } from './routes/proxies.ts';
import type { Grant, Route } from './routes/types.ts';

export type { Caller, Grant, Route, RouteRequest } from './routes/types.ts';

const [health, openapi, patientsSearch, auditList, ...staffPermissionRoutes] = foundationRoutes;
const [registerPatient, patientRevoke, signInUnlock] = patientAccessRoutes;

/** The order is the OpenAPI document's (and has been since before the per-flow files): keep it. */
export const routes = [
  health,
  openapi,
  ...staffSignInRoutes,
  patientsSearch,
  ...portalRecordRoutes,
  auditList,
  ...settingsRoutes,
  ...staffPermissionRoutes,
  ...invitationRoutes,
  ...registrationRoutes,
  ...patientSignInRoutes,
  ...accountRoutes,
  registerPatient,
  patientRevoke,
  ...diagnosisRoutes,
  signInUnlock,
  ...lobbyRoutes,
  ...resetRoutes,
  ...emailMatchRoutes,
  ...autoInviteRoutes,
  ...pageRoutes,
  ...staffAdminRoutes,
  ...proxyRoutes,
] as const satisfies readonly Route[];

export type RouteId = (typeof routes)[number]['id'];

export function routeById(id: RouteId): Route {
  const found = routes.find((r) => r.id === id);
  if (!found) throw new Error(`no route ${id}`);
  return found;
}

/**
 * What a route's function may touch: its own grants, plus `staff:session` for every staff and
 * admin route, because the token check reads the caller's staff record on every request
 * (lambdas/http/auth.ts, rule 30). The stack builds each function's policy from this.
 */
export function grantsOf(route: Pick<Route, 'caller' | 'grants'>): readonly Grant[] {
  const needsSession = route.caller === 'staff' || route.caller === 'admin';
  return needsSession && !route.grants.includes('staff:session') ? [...route.grants, 'staff:session'] : route.grants;
}
