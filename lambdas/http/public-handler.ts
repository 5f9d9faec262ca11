/**
 * `defineHandler` for routes anyone may call (caller `public` in the route table): the same
 * chain as ./handler.ts without importing the staff, patient and lobby token checks. Those pull
 * in aws-jwt-verify and the DynamoDB client (the revocation lookups), which a public function
 * never uses: GET /health and the pages then bundle no AWS SDK at all, and start faster.
 *
 * Only public routes type-check here, and a route that is not public fails at cold start.
 */
import { routes, type Caller } from '../../lib/routes.ts';
import { buildHandler, type Input, type Output, type RouteOf } from './handler-core.ts';

export type PublicRouteId = Extract<(typeof routes)[number], { caller: 'public' }>['id'];

export function defineHandler<const Id extends PublicRouteId>(id: Id, run: (input: Input<RouteOf<Id>>) => Promise<Output<RouteOf<Id>>>) {
  const route = routes.find((r) => r.id === id);
  const caller: Caller | undefined = route?.caller;
  if (!route || caller !== 'public') throw new Error(`route ${id} is not public: build it with lambdas/http/handler.ts`);
  return buildHandler(route as RouteOf<Id>, run, async (routeCaller) => {
    // buildHandler hands the route's own caller; anything else would be a wiring mistake.
    if (routeCaller !== 'public') throw new Error(`route ${id} is not public`);
    return undefined;
  });
}
