/**
 * `buildHandler` by route id, for tests that run the chain with an authenticator of their own.
 * The chain itself takes the route entry (lambdas/http/handler-core.ts), so that a function can
 * bundle its one entry instead of the whole table; here the table is at hand.
 */
import { routeById, type RouteId } from '../../lib/routes.ts';
import { buildHandler, type Authenticate, type Input, type Output, type RouteOf } from '../../lambdas/http/handler-core.ts';

export function buildHandlerFor<const Id extends RouteId>(id: Id, run: (input: Input<RouteOf<Id>>) => Promise<Output<RouteOf<Id>>>, authenticate: Authenticate) {
  return buildHandler(routeById(id) as RouteOf<Id>, run, authenticate);
}
