/**
 * The pages a person opens, served by the same route table as the API: one origin, so the CSP's
 * `connect-src 'self'` holds and there is no CORS. Pages hold no data; the API calls their
 * scripts make carry the caller's own token.
 */
import * as z from 'zod/mini';
import { route, type Route } from './types.ts';

/**
 * Emailed links carry their token after `#`, which browsers never send (rule 26), so no page
 * takes a secret in its URL. Any query (an old `?token=` link included) is ignored, never read,
 * echoed or logged; the page's script clears it from the address bar and says the link is old.
 */
const PageQuery = z.object({});

export const portalPages = ['register', 'verify', 'login', 'reset', 'lobby', 'account'] as const;
/** Pages that offer their form only where a practice setting is on, and otherwise say so (issue 19). */
export const settingGatedPages = ['self-register'] as const;

export const pageRoutes = [
  route({
    id: 'portal-page',
    method: 'GET',
    path: '/portal/{page}',
    entry: 'lambdas/handlers/pages/portal.ts',
    caller: 'public',
    // The settings item: whether login and verify offer the email-match method and the reset, and self-register its form.
    grants: ['records:read'],
    summary: `A patient page (${[...portalPages, ...settingGatedPages].join(', ')}); any other name is a 404 page`,
    // Checked by the handler, so an unknown page gets a 404 page rather than a 400 problem.
    request: { params: z.object({ page: z.string().check(z.maxLength(64)) }), query: PageQuery },
    responses: { 200: z.string(), 404: z.string() },
    content: 'html',
  }),
  route({
    id: 'console-page',
    method: 'GET',
    path: '/console',
    entry: 'lambdas/handlers/pages/console.ts',
    caller: 'public',
    grants: [],
    summary: 'The staff console page (its API calls need a staff token)',
    request: { query: PageQuery },
    responses: { 200: z.string() },
    content: 'html',
  }),
  route({
    id: 'page-asset',
    method: 'GET',
    path: '/assets/{file}',
    entry: 'lambdas/handlers/pages/asset.ts',
    caller: 'public',
    grants: [],
    summary: "A browser file of the pages (script or style sheet); 404 for any name that is not one",
    request: { params: z.object({ file: z.string().check(z.maxLength(128)) }) },
    responses: { 200: z.string() },
    problems: [404],
    content: 'asset',
  }),
] as const satisfies readonly Route[];
