/**
 * `defineHandler` for routes anyone may call (caller `public` in the route table): the same
 * chain as ./handler.ts without importing the staff, patient and lobby token checks. Those pull
 * in aws-jwt-verify and the DynamoDB client (the revocation lookups), which a public function
 * never uses. Like ./handler.ts it takes the handler's own flow's routes (lib/routes/<flow>.ts),
 * not the whole table.
 *
 * Only public routes type-check here, and a route that is not public fails at cold start.
 */
import type { Caller, Route } from '../../lib/routes/types.ts';
import { buildHandler, routeIn, type Input, type Output, type RouteIn, type TableRoute } from './handler-core.ts';

/** The ids of the public routes among `Rs`. */
export type PublicRouteId<Rs extends readonly Route[]> = Extract<Rs[number], { caller: 'public' }>['id'];

export function defineHandler<const Rs extends readonly TableRoute[], const Id extends PublicRouteId<Rs>>(
  flowRoutes: Rs,
  id: Id,
  run: (input: Input<RouteIn<Rs, Id>>) => Promise<Output<RouteIn<Rs, Id>>>,
) {
  const route = routeIn(flowRoutes, id);
  const caller: Caller = route.caller;
  if (caller !== 'public') throw new Error(`route ${id} is not public: build it with its caller's handler module`);
  // A public route, checked just above: no token to check.
  return buildHandler(route, run, async () => undefined);
}
