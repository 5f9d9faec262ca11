/**
 * The service's own routes: health and the OpenAPI document. Apart from the other foundation
 * routes, because these functions bundle their route entry: this file imports no request schema,
 * so neither function carries a validator it does not use (issue 16).
 */
import * as z from 'zod/mini';
import { route, type Route } from './types.ts';

export const serviceRoutes = [
  route({
    id: 'health',
    method: 'GET',
    path: '/health',
    entry: 'lambdas/handlers/health/get.ts',
    caller: 'public',
    grants: [],
    summary: 'Liveness: 200 once the service answers',
    request: {},
    responses: { 200: z.object({ status: z.literal('ok') }) },
  }),
  route({
    id: 'openapi',
    method: 'GET',
    path: '/openapi.json',
    entry: 'lambdas/handlers/openapi/get.ts',
    caller: 'public',
    grants: [],
    summary: 'This OpenAPI document, generated from the route table',
    request: {},
    responses: { 200: z.looseObject({ openapi: z.string() }) },
  }),
] as const satisfies readonly Route[];
