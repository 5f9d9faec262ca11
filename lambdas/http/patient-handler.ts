/**
 * `defineHandler` for patient routes: the chain of ./handler-core.ts with the patient token
 * check only (./patient-auth.ts, rule 17), so the function bundles neither the staff nor the
 * lobby check and what they read (issue 16). Like every builder it takes the handler's own
 * flow's routes (lib/routes/<flow>.ts).
 *
 * Only patient routes type-check here, and any other route fails at cold start.
 */
import type { Caller } from '../../lib/routes/types.ts';
import { buildHandler, routeIn, type Input, type Output, type RouteIn, type TableRoute } from './handler-core.ts';
import { authenticatePatient } from './patient-auth.ts';

/** The ids of the patient routes among `Rs`. */
export type PatientRouteId<Rs extends readonly TableRoute[]> = Extract<Rs[number], { caller: 'patient' }>['id'];

export function defineHandler<const Rs extends readonly TableRoute[], const Id extends PatientRouteId<Rs>>(
  flowRoutes: Rs,
  id: Id,
  run: (input: Input<RouteIn<Rs, Id>>) => Promise<Output<RouteIn<Rs, Id>>>,
) {
  const route = routeIn(flowRoutes, id);
  const caller: Caller = route.caller;
  if (caller !== 'patient') throw new Error(`route ${id} is not a patient route: build it with its caller's handler module`);
  // A patient route, checked just above (buildHandler hands this callback the same caller).
  return buildHandler(route, run, async (_routeCaller, authorization) => authenticatePatient(authorization));
}
