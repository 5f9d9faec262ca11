/**
 * The typed client (issue 21 item 2): `npm run client` output type-checks against the example
 * program the README shows (sign in with TOTP, search, open a record, invite), so a contract
 * change that breaks a client fails `npm test`. And the check has teeth: a program that calls a
 * path, sends a field or reads an answer the contract does not have fails to compile.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateClient } from '../../bin/client.ts';
import { repoRoot } from '../../lib/stack/portal-function.ts';

let dir: string;

beforeAll(async () => {
  // Under the repository, so the generated index.ts finds openapi-fetch in node_modules as a copy would.
  await mkdir(join(repoRoot, 'dist'), { recursive: true });
  dir = await mkdtemp(join(repoRoot, 'dist', 'client-test-'));
  await generateClient(dir);
}, 60_000);
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** What a browser app's tsconfig would say: strict, DOM, bundler resolution. */
function typeErrors(files: string[]): Map<string, string[]> {
  const program = ts.createProgram(files, {
    strict: true,
    noEmit: true,
    noUncheckedIndexedAccess: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'],
    types: [],
    skipLibCheck: true,
  });
  const byFile = new Map<string, string[]>();
  for (const d of ts.getPreEmitDiagnostics(program)) {
    const name = d.file?.fileName ?? '(global)';
    byFile.set(name, [...(byFile.get(name) ?? []), ts.flattenDiagnosticMessageText(d.messageText, '\n')]);
  }
  return byFile;
}

const broken = {
  'a path the contract does not have': `await api.GET('/patient/{patientId}', { params: { path: { patientId: 'P-1' } } });`,
  'a body field of the wrong type': `await api.POST('/staff/sessions', { body: { username: 'u', password: 42 } });`,
  'an answer field the contract does not have': `const r = await api.GET('/patients/{patientId}/portal', { params: { path: { patientId: 'P-1' } } }); r.data?.diagnosisCode.toUpperCase();`,
  'a missing path parameter': `await api.GET('/patients/{patientId}/portal', {});`,
  'a challenge the contract does not have': `await api.POST('/staff/sessions/challenge', { body: { challenge: 'SMS_MFA', session: 's', code: '123456' } });`,
};

describe('typed client', () => {
  // One program for every file (type-checking is the slow part): errors are then told apart by file.
  let errorsByFile: Map<string, string[]>;
  beforeAll(async () => {
    const files = [join(dir, 'index.ts'), join(dir, 'example.ts')];
    for (const [i, line] of Object.values(broken).entries()) {
      const file = join(dir, `broken-${i}.ts`);
      await writeFile(file, `import { createPortalClient } from './index.js';\nconst api = createPortalClient({ baseUrl: 'https://api.test' });\n${line}\nexport {};\n`);
      files.push(file);
    }
    errorsByFile = typeErrors(files);
  }, 180_000);

  it('the generated client and the README example compile against the current contract', () => {
    expect(errorsByFile.get(join(dir, 'index.ts')) ?? []).toEqual([]);
    expect(errorsByFile.get(join(dir, 'example.ts')) ?? []).toEqual([]);
    expect(errorsByFile.get('(global)') ?? []).toEqual([]);
  });

  it.each(Object.keys(broken).map((name, i) => [name, i] as const))('a program using %s does not compile', (_, i) => {
    expect((errorsByFile.get(join(dir, `broken-${i}.ts`)) ?? []).length).toBeGreaterThan(0);
  });
});
