/**
 * lambdas/http/public-handler.ts: public routes built without the token checks, so their bundles
 * carry neither aws-jwt-verify nor (for routes with no backend) the AWS SDK; and it refuses a
 * route that is not public, so it can never be used to skip authentication.
 */
import { join } from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { lambdaBuildOptions } from '../../../bench/lib/bundles.ts';
import { defineHandler } from '../../../lambdas/http/public-handler.ts';
import { repoRoot } from '../../../lib/stack/portal-function.ts';
import { lobbyRoutes } from '../../../lib/routes/lobby.ts';
import { portalRecordRoutes } from '../../../lib/routes/portal-record.ts';
import { serviceRoutes } from '../../../lib/routes/service.ts';
import { apiEvent, call } from '../../support/events.ts';

/** The node_modules packages (and our own files) in a function's bundle, built as the stack builds it. */
async function bundledInputs(entry: string): Promise<string[]> {
  const result = await build({ ...lambdaBuildOptions, entryPoints: [join(repoRoot, entry)], write: false, metafile: true, outdir: '/tmp/public-handler-test', absWorkingDir: repoRoot });
  const output = Object.values(result.metafile.outputs)[0]!;
  return Object.entries(output.inputs)
    .filter(([, i]) => i.bytesInOutput > 0)
    .map(([path]) => path);
}

describe('public-handler', () => {
  it('refuses, at definition, a route whose caller is not public', () => {
    // The type forbids it; this is the cold-start guard for a table edited later.
    expect(() => defineHandler(portalRecordRoutes, 'portal-record-get' as never, async () => ({ status: 200 }) as never)).toThrow(/not public/);
    expect(() => defineHandler(lobbyRoutes, 'lobby-session-current' as never, async () => ({ status: 200 }) as never)).toThrow(/not public/);
  });

  it('runs the same chain: request id, JSON body, problem+json for an error', async () => {
    const handler = defineHandler(serviceRoutes, 'health', async () => ({ status: 200, body: { status: 'ok' } }));
    const ok = await call(handler, apiEvent({ path: '/health', headers: { authorization: 'Bearer not-a-token' } }));
    expect(ok.status).toBe(200);
    expect(ok.json).toEqual({ status: 'ok' });
    expect(ok.headers['x-request-id']).toBeTruthy();
    const failing = defineHandler(serviceRoutes, 'health', async () => {
      throw new Error('boom: secret detail');
    });
    const err = await call(failing, apiEvent({ path: '/health' }));
    expect(err.status).toBe(500);
    expect(err.headers['content-type']).toBe('application/problem+json');
    expect(JSON.stringify(err.json)).not.toContain('secret detail');
  });

  it('GET /health bundles no AWS SDK and no token verifier', { timeout: 120_000 }, async () => {
    const inputs = await bundledInputs('lambdas/handlers/health/get.ts');
    expect(inputs.filter((p) => /node_modules\/(@aws-sdk|@smithy|aws-jwt-verify)\//.test(p))).toEqual([]);
    expect(inputs.filter((p) => /lambdas\/(http\/(auth|patient-auth|lobby-auth)|adapters\/)/.test(p))).toEqual([]);
  });

  it('POST /sessions bundles no token verifier (it issues tokens, it never checks one)', { timeout: 120_000 }, async () => {
    const inputs = await bundledInputs('lambdas/handlers/patient-sign-in/create.ts');
    expect(inputs.filter((p) => /node_modules\/aws-jwt-verify\//.test(p))).toEqual([]);
    expect(inputs.some((p) => /node_modules\/@aws-sdk\/client-dynamodb\//.test(p))).toBe(true);
  });
});
