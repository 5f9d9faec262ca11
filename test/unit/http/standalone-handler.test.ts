/**
 * lambdas/http/standalone-handler.ts (issue 16): the functions that touch nothing (health, the
 * OpenAPI document, the console page, the browser files) bundle their own route entry, not the
 * route table, so they carry no request schema of other routes, no OpenAPI generator and no AWS
 * SDK; and it refuses any route that is not public or that has a grant.
 */
import { join } from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { lambdaBuildOptions } from '../../../bench/lib/bundles.ts';
import { handler as openapi } from '../../../lambdas/handlers/openapi/get.ts';
import { defineHandler } from '../../../lambdas/http/standalone-handler.ts';
import { openApiDocument } from '../../../lambdas/openapi/document.ts';
import { repoRoot } from '../../../lib/stack/portal-function.ts';
import { pageRoutes } from '../../../lib/routes/pages.ts';
import { portalRecordRoutes } from '../../../lib/routes/portal-record.ts';
import { serviceRoutes } from '../../../lib/routes/service.ts';
import { apiEvent, call } from '../../support/events.ts';

async function bundledInputs(entry: string): Promise<string[]> {
  const result = await build({ ...lambdaBuildOptions, entryPoints: [join(repoRoot, entry)], write: false, metafile: true, outdir: '/tmp/standalone-handler-test', absWorkingDir: repoRoot });
  const output = Object.values(result.metafile.outputs)[0]!;
  return Object.entries(output.inputs)
    .filter(([, i]) => i.bytesInOutput > 0)
    .map(([path]) => path);
}

describe('standalone-handler', () => {
  it('refuses, at definition, a route that is not public or that touches a backend', () => {
    expect(() => defineHandler(portalRecordRoutes, 'portal-record-get' as never, async () => ({ status: 200 }) as never)).toThrow(/touches a backend/);
    // Public, but it reads the settings item: it must be built with the whole chain.
    expect(() => defineHandler(pageRoutes, 'portal-page' as never, async () => ({ status: 200 }) as never)).toThrow(/touches a backend/);
    // A caller check with no grants (no such route today: each check alone must refuse).
    const health = serviceRoutes.find((r) => r.id === 'health')!;
    for (const caller of ['staff', 'admin', 'patient', 'lobby'] as const) {
      const tokenOnly = [{ ...health, caller }] as unknown as typeof serviceRoutes;
      expect(() => defineHandler(tokenOnly, 'health' as never, async () => ({ status: 200 }) as never)).toThrow(/touches a backend/);
    }
  });

  it('runs the same chain: request id, JSON body, problem+json for an error', async () => {
    const ok = await call(defineHandler(serviceRoutes, 'health', async () => ({ status: 200, body: { status: 'ok' } })), apiEvent({ path: '/health' }));
    expect(ok.status).toBe(200);
    expect(ok.json).toEqual({ status: 'ok' });
    expect(ok.headers['x-request-id']).toBeTruthy();
    const failing = defineHandler(serviceRoutes, 'health', async () => {
      throw new Error('boom: secret detail');
    });
    const err = await call(failing, apiEvent({ path: '/health' }));
    expect(err.status).toBe(500);
    expect(JSON.stringify(err.json)).not.toContain('secret detail');
  });

  it('GET /openapi.json outside Lambda answers the document generated from the route table', async () => {
    const answer = await call(openapi, apiEvent({ path: '/openapi.json' }));
    expect(answer.status).toBe(200);
    expect(answer.json).toEqual(JSON.parse(JSON.stringify(openApiDocument())));
  });

  for (const entry of ['lambdas/handlers/health/get.ts', 'lambdas/handlers/openapi/get.ts', 'lambdas/handlers/pages/console.ts', 'lambdas/handlers/pages/asset.ts']) {
    it(`${entry} bundles no route table, no schema file, no generator and no AWS SDK`, { timeout: 120_000 }, async () => {
      const inputs = await bundledInputs(entry);
      expect(inputs.filter((p) => /node_modules\/(@aws-sdk|@smithy|aws-jwt-verify|@asteasolutions)\//.test(p))).toEqual([]);
      expect(inputs.filter((p) => /^lib\/routes\.ts$|lambdas\/(schemas|openapi|adapters)\/|node_modules\/zod\/v4\/core\/(to-json-schema|json-schema)/.test(p))).toEqual([]);
    });
  }
});
