import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { routes } from '../../lib/routes.ts';
import { openApiDocument } from '../../lambdas/openapi/document.ts';

describe('the route table', () => {
  it('declares no route twice and no id twice', () => {
    const keys = routes.map((r) => `${r.method} ${r.path}`);
    expect(new Set(keys).size).toBe(keys.length);
    expect(new Set(routes.map((r) => r.id)).size).toBe(routes.length);
  });

  it('points every route at a handler file that exists', () => {
    for (const r of routes) expect(existsSync(r.entry), r.entry).toBe(true);
  });

  it('gives every route that is not public a role, and write grants only to non-GET routes', () => {
    for (const r of routes) {
      // The one exception: showing an invitation PIN again is itself an audited event (rule 18).
      const auditedReads = ['invitation-access-code'];
      const writes = r.grants.filter((g) => g.endsWith(':write') || (g.endsWith(':append') && !auditedReads.includes(r.id)));
      if (r.method === 'GET') expect(writes, r.id).toEqual([]);
    }
  });

  it('has the contract paths of the foundation', () => {
    const keys = routes.map((r) => `${r.method} ${r.path}`);
    expect(keys).toEqual(
      expect.arrayContaining([
        'POST /staff/sessions',
        'POST /staff/sessions/challenge',
        'GET /patients/{patientId}/portal',
        'PUT /patients/{patientId}/portal',
        'GET /patients',
        'GET /settings',
        'PUT /settings',
        'GET /staff/{staffId}/permissions',
        'PUT /staff/{staffId}/permissions',
        'GET /patients/{patientId}/portal/audit',
        'GET /health',
        'GET /openapi.json',
      ]),
    );
  });
});

describe('the OpenAPI document', () => {
  it('documents every route with its method, from the same schemas that validate requests', () => {
    const doc = openApiDocument() as unknown as { paths: Record<string, Record<string, { operationId: string }>>; components: { schemas: Record<string, unknown> } };
    for (const r of routes) expect(doc.paths[r.path]?.[r.method.toLowerCase()]?.operationId).toBe(r.id);
    expect(doc.components.schemas).toHaveProperty('PortalRecord');
    expect(doc.components.schemas).toHaveProperty('Problem');
  });
});
