/**
 * The route table: the one place a route is declared. The CDK stack makes one Lambda function
 * and one least-privilege role per entry from it; the local server routes requests with it; the
 * handlers take their caller rule and request shapes from it; GET /openapi.json is generated
 * from it. Entries live in lib/routes/<area>.ts; adding a route means adding an entry there and
 * a handler file.
 */
import { foundationRoutes } from './routes/foundation.ts';
import { invitationRoutes } from './routes/invitations.ts';
import { patientRoutes } from './routes/patients.ts';
import { lobbyRoutes } from './routes/lobby.ts';
import { emailMatchRoutes } from './routes/email-match.ts';
import { resetRoutes } from './routes/resets.ts';
import { pageRoutes } from './routes/pages.ts';
import type { Route } from './routes/types.ts';

export type { Caller, Grant, Route, RouteRequest } from './routes/types.ts';

export const routes = [...foundationRoutes, ...invitationRoutes, ...patientRoutes, ...lobbyRoutes, ...resetRoutes, ...emailMatchRoutes, ...pageRoutes] as const satisfies readonly Route[];

export type RouteId = (typeof routes)[number]['id'];

export function routeById(id: RouteId): Route {
  const found = routes.find((r) => r.id === id);
  if (!found) throw new Error(`no route ${id}`);
  return found;
}
