/**
 * `defineHandler` for the functions that touch nothing (public routes with no grants): health,
 * the OpenAPI document, the console page and the browser files. The same chain as
 * ./public-handler.ts, but the route comes from its own small route file instead of the whole
 * table (lib/routes.ts), which imports every request schema of the API: so these functions bundle
 * no validator they do not use, and no AWS SDK (issue 16: ≤ 60 KB).
 *
 * Only such routes type-check here, and a route that is not public fails at cold start.
 */
import { pageRoutes } from '../../lib/routes/pages.ts';
import { serviceRoutes } from '../../lib/routes/service.ts';
import { buildHandler, type Input, type Output } from './handler-core.ts';

const standaloneRoutes = [...serviceRoutes, ...pageRoutes];
type StandaloneRoute = Extract<(typeof standaloneRoutes)[number], { caller: 'public'; grants: readonly [] }>;
export type StandaloneRouteId = StandaloneRoute['id'];
type RouteOf<Id extends StandaloneRouteId> = Extract<StandaloneRoute, { id: Id }>;

export function defineHandler<const Id extends StandaloneRouteId>(id: Id, run: (input: Input<RouteOf<Id>>) => Promise<Output<RouteOf<Id>>>) {
  const route = standaloneRoutes.find((r) => r.id === id) as RouteOf<Id> | undefined;
  if (!route || route.caller !== 'public' || route.grants.length > 0) {
    throw new Error(`route ${id} touches a backend: build it with lambdas/http/public-handler.ts or handler.ts`);
  }
  return buildHandler(route, run, async (routeCaller) => {
    // buildHandler hands the route's own caller; anything else would be a wiring mistake.
    if (routeCaller !== 'public') throw new Error(`route ${id} is not public`);
    return undefined;
  });
}
