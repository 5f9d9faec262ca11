/**
 * Issue 16 (init ≤ 1.3× the SDK-only entry): a function builds the zod schemas it uses, not every
 * schema of the modules it imports. zod builds each schema object eagerly (about 10–30 µs an
 * instance at cold start), and esbuild keeps a top-level call unless it is marked pure, so every
 * schema declaration in lambdas/schemas is a `/* @__PURE__ *\/` IIFE: unused, esbuild drops it.
 * And the route table names its answers with `schemaOf` (types only), so a handler, which reads
 * its flow's route file, builds its request schemas and no answer schema.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { lambdaBuildOptions } from '../../bench/lib/bundles.ts';
import { repoRoot } from '../../lib/stack/portal-function.ts';

const schemaDir = join(repoRoot, 'lambdas', 'schemas');
const pureIife = /^\/\* @__PURE__ \*\/ \(\(\) =>[\s\S]*\)\(\)$/;

/** Top-level declarations initialised by a call that esbuild could not drop: `file: name`. */
function impureDeclarations(file: string, text: string): string[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const wrong: string[] = [];
  for (const statement of source.statements) {
    if (!ts.isVariableStatement(statement)) continue;
    for (const d of statement.declarationList.declarations) {
      if (!d.initializer || !ts.isCallExpression(d.initializer)) continue;
      const written = text.slice(d.initializer.getFullStart(), d.initializer.getEnd()).trim();
      if (!pureIife.test(written)) wrong.push(`${file}: ${d.name.getText(source)}`);
    }
  }
  return wrong;
}

describe('schemas are built only by the functions that use them (issue 16)', () => {
  it('every schema declared in lambdas/schemas is a pure IIFE', () => {
    const files = readdirSync(schemaDir).filter((f) => f.endsWith('.ts'));
    expect(files.length).toBeGreaterThan(10);
    const wrong = files.flatMap((f) => impureDeclarations(f, readFileSync(join(schemaDir, f), 'utf8')));
    expect(wrong).toEqual([]);
  });

  it('the check refuses a schema built by a bare call, and one whose annotation covers only part of it', () => {
    expect(impureDeclarations('x.ts', "export const A = z.string();\n")).toEqual(['x.ts: A']);
    expect(impureDeclarations('x.ts', 'export const A = /* @__PURE__ */ z.string().check(z.minLength(1));\n')).toEqual(['x.ts: A']);
    expect(impureDeclarations('x.ts', 'export const A = /* @__PURE__ */ (() => z.string().check(z.minLength(1)))();\nexport const B = A;\n')).toEqual([]);
  });

  it('proxy-invite bundles PatientParams from the portal-record schemas, none of the record shapes and no answer schema', { timeout: 120_000 }, async () => {
    const result = await build({
      ...lambdaBuildOptions,
      entryPoints: [join(repoRoot, 'lambdas/handlers/proxies/invite.ts')],
      outdir: '/tmp/schema-tree-shaking-test',
      write: false,
      absWorkingDir: repoRoot,
    });
    const bundle = result.outputFiles[0]!.text;
    // A schema with an id is in the bundle when its meta({ id }) is (minified: id:"Name").
    const builds = (id: string) => bundle.includes(`id:"${id}"`);
    // Its own request schemas are there (the body's registered id), ...
    expect(builds('ProxyInvite')).toBe(true);
    // ... the record's shapes, declared beside PatientParams, are not; nor are the answers of its
    // flow's routes (its own 201 included), which the route file names with schemaOf.
    for (const id of ['PortalRecord', 'PortalRecordChange', 'PatientSearchResult', 'ProxyInvited', 'ProxyList', 'AccountRecord']) {
      expect(builds(id), id).toBe(false);
    }
  });
});
