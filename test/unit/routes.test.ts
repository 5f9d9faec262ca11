import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { grantsOf, routes } from '../../lib/routes.ts';
import { permissionsFor, type GrantTargets } from '../../lib/stack/grants.ts';
import { openApiDocument } from '../../lambdas/openapi/document.ts';

/** A route key with its parameter names erased: /staff/{id} and /staff/{staffId} are one route to API Gateway. */
const shapeOf = (r: { method: string; path: string }) => `${r.method} ${r.path.replace(/\{[^}]+\}/g, '{}')}`;

const targets: GrantTargets = {
  region: 'us-east-1',
  recordsTableArn: 'arn:records',
  recordsIndexArns: ['arn:records/index/byEmail'],
  auditTableArn: 'arn:audit',
  dataKeyArn: 'arn:data-key',
  staffPoolArn: 'arn:staff-pool',
  patientPoolArn: 'arn:patient-pool',
  emailIdentityArn: 'arn:identity',
  configurationSetArn: 'arn:configuration-set',
  pinKeyArn: 'arn:pin-key',
  senderEmail: 'no-reply@example.test',
};

/** IAM actions that only read. Anything else (Put, Update, Delete, Encrypt, Send, AdminCreate…) writes. */
const readAction = /^(dynamodb:(GetItem|BatchGetItem|Query|Scan|ConditionCheckItem|DescribeTable)|kms:(Decrypt|DescribeKey)|cognito-idp:(AdminGetUser|ListUsers|ListUsersInGroup|AdminListGroupsForUser|DescribeUserPoolClient))$/;

describe('the route table', () => {
  it('declares no route twice and no id twice', () => {
    const keys = routes.map(shapeOf);
    expect(keys.filter((k, i) => keys.indexOf(k) !== i)).toEqual([]);
    const ids = routes.map((r) => r.id);
    expect(ids.filter((id, i) => ids.indexOf(id) !== i)).toEqual([]);
  });

  it('points every route at a handler file that exists and builds that route', () => {
    for (const r of routes) {
      expect(existsSync(r.entry), r.entry).toBe(true);
      // The file is this route's handler: it defines its handler with this route's id (from its
      // flow's routes: test/unit/handler-routes.test.ts checks it is the table's entry).
      expect(readFileSync(r.entry, 'utf8'), r.entry).toMatch(new RegExp(`defineHandler\\(\\s*\\w+,\\s*'${r.id}'`));
    }
  });

  it("gives every route that is not public a role that can check its caller's token, and write grants only to non-GET routes", () => {
    // What each caller's token check reads (lambdas/http/auth.ts, patient-auth.ts, lobby-auth.ts).
    const tokenCheck = { staff: 'staff:session', admin: 'staff:session', patient: 'records:read', lobby: 'lobby:session' } as const;
    for (const r of routes) {
      if (r.caller === 'public') continue;
      const grants: readonly string[] = grantsOf(r);
      const needed = tokenCheck[r.caller];
      // records:write includes the reads of records:read.
      const has = grants.includes(needed) || (needed === 'records:read' && grants.includes('records:write'));
      expect(has, `${r.id} (${r.caller}) lacks ${needed}`).toBe(true);
    }
    const writesOf = (grants: Parameters<typeof permissionsFor>[0]) =>
      permissionsFor(grants, targets).flatMap((p) => p.actions.filter((a) => !readAction.test(a)).map((a) => `${a} on ${p.resources.join(',')}`));
    for (const r of routes.filter((x) => x.method === 'GET')) {
      // The one exception: showing an invitation PIN again is itself an audited event (rule 18):
      // it may append to the audit table (and use the table key for that item), and write nothing else.
      // So is a proxy's opening of another's record (issue 18, audited on that record).
      if (r.id === 'invitation-access-code' || r.id === 'account-record-get') expect(writesOf(grantsOf(r)).sort(), r.id).toEqual(writesOf(['audit:append']).sort());
      else expect(writesOf(grantsOf(r)), r.id).toEqual([]);
    }
    expect(writesOf(['audit:append'])).toContain('dynamodb:PutItem on arn:audit');
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

interface Operation {
  operationId: string;
  parameters?: { name: string; in: string }[];
  requestBody?: { required?: boolean; content: Record<string, unknown> };
  responses: Record<string, { content?: Record<string, { schema: unknown }> }>;
}

describe('the OpenAPI document', () => {
  const doc = openApiDocument() as unknown as { paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, unknown> } };
  const request = (r: (typeof routes)[number]): { params?: unknown; query?: unknown; body?: unknown } => r.request;
  const shapeKeys = (schema: unknown) => Object.keys((schema as { shape?: Record<string, unknown> } | undefined)?.shape ?? {}).sort();

  it('documents every route with its method, from the same schemas that validate requests', () => {
    for (const r of routes) {
      const op = doc.paths[r.path]?.[r.method.toLowerCase()];
      expect(op?.operationId, `${r.method} ${r.path}`).toBe(r.id);
      if (!op) continue;
      const params = (where: string) => (op.parameters ?? []).filter((p) => p.in === where).map((p) => p.name).sort();
      // Path and query parameters are the keys of the route's own zod objects, the body is there
      // exactly when the route takes one, and every success status is documented.
      expect(params('path'), r.id).toEqual(shapeKeys(request(r).params));
      expect(params('query'), r.id).toEqual(shapeKeys(request(r).query));
      expect(op.requestBody?.required === true && 'application/json' in op.requestBody.content, r.id).toBe(request(r).body !== undefined);
      for (const status of Object.keys(r.responses)) expect(op.responses, `${r.id} ${status}`).toHaveProperty(status);
    }
    // Every error status a route's summary promises is one the document declares for it.
    for (const r of routes) {
      const promised = [...r.summary.matchAll(/\b([45]\d\d)\b/g)].map((m) => m[1]!);
      const declared = Object.keys(doc.paths[r.path]?.[r.method.toLowerCase()]?.responses ?? {});
      expect(promised.filter((s) => !declared.includes(s)), `${r.id}: ${r.summary}`).toEqual([]);
    }
    // Named schemas are shared components, referenced where used, not copies.
    expect(doc.components.schemas).toHaveProperty('PortalRecord');
    expect(doc.components.schemas).toHaveProperty('Problem');
    expect(doc.paths['/patients/{patientId}/portal']?.get?.responses['200']?.content?.['application/json']?.schema).toEqual({
      $ref: '#/components/schemas/PortalRecord',
    });
  });
});
