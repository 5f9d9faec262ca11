/**
 * The one way a handler is built: `defineHandler(routeId, run)` runs the chain of
 * ./handler-core.ts (request id and logs, authentication, zod parsing, errors → problem+json)
 * with the caller rule the route table gives the route. Public routes may use
 * ./public-handler.ts instead, whose bundle leaves the token checks out.
 */
import { routeById, type Caller, type RouteId } from '../../lib/routes.ts';
import { authenticateStaff } from './auth.ts';
import { buildHandler, type Input, type Output, type Principals, type RouteOf } from './handler-core.ts';
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

export function defineHandler<const Id extends RouteId>(id: Id, run: (input: Input<RouteOf<Id>>) => Promise<Output<RouteOf<Id>>>) {
  return buildHandler(routeById(id) as RouteOf<Id>, run, (caller, authorization) => authenticators[caller](authorization));
}
