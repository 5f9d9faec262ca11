/**
 * Mutation-testing rule for lambdas/http/handler-core.ts's `routeIn` (issue 20, rule 28): a handler
 * runs the table's own entry for its id, never a neighbour's (whose caller and grants differ), and
 * an id missing from the routes it is given fails at cold start.
 */
import { describe, expect, it } from 'vitest';
import { routeIn } from '../../../lambdas/http/handler-core.ts';
import { routeById } from '../../../lib/routes.ts';
import { settingsRoutes } from '../../../lib/routes/settings.ts';

describe('routeIn', () => {
  it("rule 28: answers the very entry of the id, not another route of the flow (settings-put is admin's, settings-get staff's)", () => {
    expect(routeIn(settingsRoutes, 'settings-put')).toBe(routeById('settings-put'));
    expect(routeIn(settingsRoutes, 'settings-put').caller).toBe('admin');
    expect(routeIn(settingsRoutes, 'settings-get')).toBe(routeById('settings-get'));
  });

  it('an id that is not among the routes it is given fails at cold start', () => {
    expect(() => routeIn(settingsRoutes, 'portal-record-get')).toThrow(/no route portal-record-get/);
    expect(() => routeIn([], 'settings-get')).toThrow(/no route settings-get/);
  });
});
