/**
 * `defineHandler` for lobby routes: the chain of ./handler-core.ts with the lobby token check
 * only (./lobby-auth.ts), so the function bundles neither the staff nor the patient check and
 * what they read (issue 16). Like every builder it takes the handler's own flow's routes
 * (lib/routes/<flow>.ts).
 *
 * Only lobby routes type-check here, and any other route fails at cold start.
 */
import type { Caller } from '../../lib/routes/types.ts';
import { buildHandler, routeIn, type Input, type Output, type RouteIn, type TableRoute } from './handler-core.ts';
import { authenticateLobby } from './lobby-auth.ts';

/** The ids of the lobby routes among `Rs`. */
export type LobbyRouteId<Rs extends readonly TableRoute[]> = Extract<Rs[number], { caller: 'lobby' }>['id'];

export function defineHandler<const Rs extends readonly TableRoute[], const Id extends LobbyRouteId<Rs>>(
  flowRoutes: Rs,
  id: Id,
  run: (input: Input<RouteIn<Rs, Id>>) => Promise<Output<RouteIn<Rs, Id>>>,
) {
  const route = routeIn(flowRoutes, id);
  const caller: Caller = route.caller;
  if (caller !== 'lobby') throw new Error(`route ${id} is not a lobby route: build it with its caller's handler module`);
  // A lobby route, checked just above (buildHandler hands this callback the same caller).
  return buildHandler(route, run, async (_routeCaller, authorization) => authenticateLobby(authorization));
}
