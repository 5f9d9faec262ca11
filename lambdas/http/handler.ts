/**
 * `defineHandler(flowRoutes, routeId, run)` for a route of any caller: the chain of
 * ./handler-core.ts (request id and logs, authentication, zod parsing, errors → problem+json)
 * with the caller rule of the route's entry. `flowRoutes` is the handler's own flow's routes
 * (lib/routes/<flow>.ts), not the whole table (lib/routes.ts): a function then bundles its flow's
 * entries and request schemas only (issue 16). The table gathers the same entry objects, so the
 * stack, the local server and OpenAPI see exactly what the handler runs (test/unit/handler-routes.test.ts).
 *
 * This form bundles all four token checks. The functions use their caller's module instead, the
 * same call with one check: ./staff-handler.ts (staff, admin), ./patient-handler.ts,
 * ./lobby-handler.ts, ./public-handler.ts (none) and ./standalone-handler.ts (no backend at all).
 */
import type { Caller } from '../../lib/routes/types.ts';
import { authenticateStaff } from './auth.ts';
import { buildHandler, routeIn, type Input, type Output, type Principals, type RouteIn, type TableRoute } from './handler-core.ts';
import { authenticateLobby } from './lobby-auth.ts';
import { authenticatePatient } from './patient-auth.ts';

export type { Input, Output } from './handler-core.ts';

const authenticators: { [C in Caller]: (authorization: string | undefined) => Promise<Principals[C]> } = {
  public: async () => undefined,
  staff: (authorization) => authenticateStaff(authorization, 'staff'),
  admin: (authorization) => authenticateStaff(authorization, 'admin'),
  patient: authenticatePatient,
  lobby: authenticateLobby,
};

export function defineHandler<const Rs extends readonly TableRoute[], const Id extends Rs[number]['id']>(
  flowRoutes: Rs,
  id: Id,
  run: (input: Input<RouteIn<Rs, Id>>) => Promise<Output<RouteIn<Rs, Id>>>,
) {
  return buildHandler(routeIn(flowRoutes, id), run, (caller, authorization) => authenticators[caller](authorization));
}
