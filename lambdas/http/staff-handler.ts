/**
 * `defineHandler` for staff and admin routes: the chain of ./handler-core.ts with the staff token
 * check only (./auth.ts, rule 30). A function bundles the token check of its own route's caller,
 * not the patient and lobby checks with the stores they read (issue 16: ≤ 1.3× its SDK-only
 * entry). Like every builder it takes the handler's own flow's routes (lib/routes/<flow>.ts).
 *
 * Only staff and admin routes type-check here, and any other route fails at cold start.
 */
import type { Caller } from '../../lib/routes/types.ts';
import { authenticateStaff } from './auth.ts';
import { buildHandler, routeIn, type Input, type Output, type RouteIn, type TableRoute } from './handler-core.ts';

/** The ids of the staff and admin routes among `Rs`. */
export type StaffRouteId<Rs extends readonly TableRoute[]> = Extract<Rs[number], { caller: 'staff' | 'admin' }>['id'];

export function defineHandler<const Rs extends readonly TableRoute[], const Id extends StaffRouteId<Rs>>(
  flowRoutes: Rs,
  id: Id,
  run: (input: Input<RouteIn<Rs, Id>>) => Promise<Output<RouteIn<Rs, Id>>>,
) {
  const route = routeIn(flowRoutes, id);
  const caller: Caller = route.caller;
  if (caller !== 'staff' && caller !== 'admin') throw new Error(`route ${id} is not a staff route: build it with its caller's handler module`);
  // The route's own caller, checked just above (buildHandler hands the same one to this callback).
  return buildHandler(route, run, async (_routeCaller, authorization) => authenticateStaff(authorization, caller));
}
