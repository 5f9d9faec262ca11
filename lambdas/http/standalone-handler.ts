/**
 * `defineHandler` for the functions that touch nothing (public routes with no grants): health,
 * the OpenAPI document, the console page and the browser files. The same chain as
 * ./public-handler.ts, given the handler's own flow's routes (lib/routes/service.ts or pages.ts)
 * like every handler: these functions bundle no validator they do not use, no token check and no
 * AWS SDK (issue 16: ≤ 60 KB).
 *
 * Only such routes type-check here, and a route that is not public, or has a grant, fails at cold start.
 */
import type { Route } from '../../lib/routes/types.ts';
import { buildHandler, routeIn, type Input, type Output, type RouteIn, type TableRoute } from './handler-core.ts';

/** The ids of the routes among `Rs` that are public and touch no backend. */
export type StandaloneRouteId<Rs extends readonly Route[]> = Extract<Rs[number], { caller: 'public'; grants: readonly [] }>['id'];

export function defineHandler<const Rs extends readonly TableRoute[], const Id extends StandaloneRouteId<Rs>>(
  flowRoutes: Rs,
  id: Id,
  run: (input: Input<RouteIn<Rs, Id>>) => Promise<Output<RouteIn<Rs, Id>>>,
) {
  const route = routeIn(flowRoutes, id);
  if (route.caller !== 'public' || route.grants.length > 0) {
    throw new Error(`route ${id} touches a backend: build it with lambdas/http/public-handler.ts or its caller's handler module`);
  }
  // A public route, checked just above: no token to check.
  return buildHandler(route, run, async () => undefined);
}
