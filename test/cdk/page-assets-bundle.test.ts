/**
 * The browser-files function as the stack bundles it: esbuild's CJS output plus the copied
 * static folder. Synthesizes one PortalFunction (not the whole stack) and then runs the bundle
 * the way Lambda would, with LAMBDA_TASK_ROOT pointing at it.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Key } from 'aws-cdk-lib/aws-kms';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openApiDocument } from '../../lambdas/openapi/document.ts';
import { routeById } from '../../lib/routes.ts';
import { PortalFunction, repoRoot } from '../../lib/stack/portal-function.ts';

let bundleDir: (routeId: 'page-asset' | 'health' | 'openapi') => string;
const savedTaskRoot = process.env.LAMBDA_TASK_ROOT;
process.env.LOG_LEVEL ??= 'silent';

beforeAll(() => {
  const app = new App();
  const stack = new Stack(app, 'PageAssetsBundle');
  const logKey = new Key(stack, 'LogKey');
  const fns = (['page-asset', 'health', 'openapi'] as const).map((id) => {
    const fn = new PortalFunction(stack, `Fn-${id}`, {
      route: routeById(id),
      environment: {},
      statements: [],
      logKey,
      logRetention: RetentionDays.ONE_DAY,
      reservedConcurrency: 1,
    });
    return [id, fn] as const;
  });
  const assembly = app.synth();
  const template = assembly.getStackByName('PageAssetsBundle').template as { Resources: Record<string, any> };
  const codeKey = (fn: PortalFunction) => {
    const logical = stack.resolve(stack.getLogicalId(fn.function.node.defaultChild as never)) as string;
    return String(template.Resources[logical].Properties.Code.S3Key).replace(/\.zip$/, '');
  };
  const dirs = new Map(fns.map(([id, fn]) => [id, path.join(assembly.directory, `asset.${codeKey(fn)}`)]));
  bundleDir = (id) => dirs.get(id)!;
});

afterAll(() => {
  if (savedTaskRoot === undefined) delete process.env.LAMBDA_TASK_ROOT;
  else process.env.LAMBDA_TASK_ROOT = savedTaskRoot;
});

describe('the browser-files function bundle', () => {
  it('carries every file of lambdas/pages/static next to index.js; other functions do not', () => {
    const dir = bundleDir('page-asset');
    expect(existsSync(path.join(dir, 'index.js'))).toBe(true);
    const expected = readdirSync(path.join(repoRoot, 'lambdas', 'pages', 'static')).sort();
    expect(readdirSync(path.join(dir, 'static')).sort()).toEqual(expected);
    expect(expected).toEqual(expect.arrayContaining(['portal.js', 'site.css']));
    expect(existsSync(path.join(bundleDir('health'), 'static'))).toBe(false);
  });

  it('serves the files from $LAMBDA_TASK_ROOT/static when run as CommonJS, as in Lambda', async () => {
    const dir = bundleDir('page-asset');
    process.env.LAMBDA_TASK_ROOT = dir;
    const { handler } = createRequire(import.meta.url)(path.join(dir, 'index.js')) as {
      handler: (event: unknown, context: unknown) => Promise<{ statusCode: number; headers: Record<string, string>; body: string }>;
    };
    const event = (file: string) => ({
      httpMethod: 'GET',
      resource: '/assets/{file}',
      path: `/assets/${file}`,
      headers: {},
      pathParameters: { file },
      queryStringParameters: null,
      body: null,
      requestContext: { requestId: 'bundle-test', identity: { sourceIp: '192.0.2.1' } },
    });
    const css = await handler(event('site.css'), { awsRequestId: 'x' });
    expect(css.statusCode).toBe(200);
    expect(css.headers['content-type']).toBe('text/css; charset=utf-8');
    expect(css.body).toContain('.skip-link');
    expect((await handler(event('index.js'), { awsRequestId: 'y' })).statusCode).toBe(404);
  });
});

describe('the OpenAPI function bundle (issue 16)', () => {
  it('carries the document generated from the route table beside index.js, and serves it as CommonJS, as in Lambda', async () => {
    const dir = bundleDir('openapi');
    const file = path.join(dir, 'openapi.json');
    expect(existsSync(file)).toBe(true);
    const expected = JSON.parse(JSON.stringify(openApiDocument()));
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(expected);
    expect(existsSync(path.join(bundleDir('health'), 'openapi.json'))).toBe(false);
    process.env.LAMBDA_TASK_ROOT = dir;
    const { handler } = createRequire(import.meta.url)(path.join(dir, 'index.js')) as {
      handler: (event: unknown, context: unknown) => Promise<{ statusCode: number; body: string }>;
    };
    const answer = await handler(
      { httpMethod: 'GET', resource: '/openapi.json', path: '/openapi.json', headers: {}, pathParameters: null, queryStringParameters: null, body: null, requestContext: { requestId: 'bundle-test', identity: { sourceIp: '192.0.2.1' } } },
      { awsRequestId: 'z' },
    );
    expect(answer.statusCode).toBe(200);
    expect(JSON.parse(answer.body)).toEqual(expected);
    // The bundle itself carries no schema and no generator: only the file does.
    expect(readFileSync(path.join(dir, 'index.js'), 'utf8')).not.toContain('PortalRecordChange');
  });
});
