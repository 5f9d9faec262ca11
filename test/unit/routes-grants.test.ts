import { describe, expect, it } from 'vitest';
import { grantsOf, routes } from '../../lib/routes.ts';

describe('grantsOf: what each function may touch', () => {
  it('rule 30: every staff and admin route may read the staff record its token check reads, once; other routes get only their own grants', () => {
    for (const route of routes) {
      const grants = grantsOf(route);
      if (route.caller === 'staff' || route.caller === 'admin') {
        expect(grants.filter((g) => g === 'staff:session'), route.id).toHaveLength(1);
        expect(grants, route.id).toEqual(expect.arrayContaining([...route.grants]));
      } else {
        expect(grants, route.id).toEqual(route.grants);
      }
    }
  });

  it('the staff sign-in routes read the staff record too (a disabled login gets no tokens)', () => {
    for (const id of ['staff-sign-in', 'staff-sign-in-challenge']) {
      expect(routes.find((r) => r.id === id)?.grants, id).toContain('staff:session');
    }
  });
});
