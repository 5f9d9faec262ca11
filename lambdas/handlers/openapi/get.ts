import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { defineHandler } from '../../http/standalone-handler.ts';
import { serviceRoutes } from '../../../lib/routes/service.ts';
import type { OpenApiDocument } from '../../openapi/document.ts';

/**
 * The document is generated from the route table and its schemas. In Lambda the stack writes it
 * beside the bundle at build time (lib/stack/portal-function.ts, openApiDocumentFile), so this
 * function carries none of the schemas or the generator; elsewhere (the local server, tests) it
 * is generated here.
 */
const documentFileName = 'openapi.json';

let cached: Promise<OpenApiDocument> | undefined;

async function load(): Promise<OpenApiDocument> {
  const taskRoot = process.env.LAMBDA_TASK_ROOT;
  const file = taskRoot && path.join(taskRoot, documentFileName);
  if (file && existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as OpenApiDocument;
  // A computed specifier, so the bundler does not follow it: the generator stays out of the
  // bundle. Absolute, because a loader may resolve a computed relative one from elsewhere.
  const generator = new URL('../../openapi/document.ts', import.meta.url).href;
  const { openApiDocument } = (await import(/* @vite-ignore */ generator)) as typeof import('../../openapi/document.ts');
  return openApiDocument();
}

export const handler = defineHandler(serviceRoutes, 'openapi', async () => {
  cached ??= load();
  return { status: 200, body: await cached };
});
