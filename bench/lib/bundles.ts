/**
 * Part 1 of `npm run bench`: every function bundled as the CDK stack bundles it, beside an
 * "SDK-only" bundle of just the AWS clients and commands that function's code imports, with the
 * size of each and its module init time in fresh `node` processes.
 *
 * The SDK-only entry is derived from the esbuild metafile: the repository's own source files that
 * esbuild kept in the handler's bundle (bytesInOutput > 0) are read, and every value imported from
 * an `@aws-sdk/*` package there (clients, commands, exceptions, marshall helpers; never `import
 * type`) is re-exported by a generated entry, bundled with the same options. So the ratio handler ÷
 * SDK-only is what our code, zod/mini and aws-jwt-verify add to the SDK code the function cannot
 * do without.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { cp, mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { build, type BuildOptions, type Metafile } from 'esbuild';
import { routes } from '../../lib/routes.ts';
import { functionDefaults, openApiDocumentFile, repoRoot } from '../../lib/stack/portal-function.ts';
import { openApiDocument } from '../../lambdas/openapi/document.ts';
import { median, percentile } from './stats.ts';

/**
 * The options lib/stack/portal-function.ts gives NodejsFunction (minify, no source map, its
 * target, CJS, mainFields module,main, nothing external), as esbuild JS API options. NodejsFunction
 * also passes platform node and bundle; it adds nothing that changes the code.
 */
export const lambdaBuildOptions = {
  bundle: true,
  platform: 'node',
  minify: true,
  sourcemap: false,
  target: functionDefaults.esbuildTarget,
  format: 'cjs',
  mainFields: ['module', 'main'],
  external: [],
  logLevel: 'silent',
} as const satisfies BuildOptions;

/** Every function the stack deploys (lib/stack/portal-stack.ts): the routes, the Cognito trigger and the SES delivery-events function. */
export const functionEntries = (): { id: string; entry: string }[] => [
  ...routes.map((r) => ({ id: r.id, entry: r.entry })),
  { id: 'token-scope', entry: 'lambdas/triggers/pre-token-generation.ts' },
  { id: 'delivery-events', entry: 'lambdas/handlers/delivery/events.ts' },
];

export interface BundleResult {
  id: string;
  entry: string;
  bytes: number;
  /** Bytes of the output that come from node_modules/zod. */
  zodBytes: number;
  /** Bytes from our own files (lambdas/, lib/). */
  ownBytes: number;
  /** The SDK imports the SDK-only entry re-exports, as `package: names`. */
  sdkImports: Record<string, string[]>;
  sdkOnlyBytes: number;
  file: string;
  sdkOnlyFile: string;
  /** Same SDK-only content as another function: measured once. */
  sdkOnlyKey: string;
}

const valueImport = /import\s+(?!type\b)\{([^}]*)\}\s*from\s*['"](@aws-sdk\/[^'"]+)['"]/g;

/** The values a source file imports from @aws-sdk packages (type-only specifiers left out). */
export function sdkValueImports(source: string): Record<string, string[]> {
  const found: Record<string, string[]> = {};
  for (const m of source.matchAll(valueImport)) {
    const names = m[1]!
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s && !s.startsWith('type '))
      .map((s) => s.split(/\s+as\s+/)[0]!.trim());
    if (names.length) (found[m[2]!] ??= []).push(...names);
  }
  return found;
}

const isOwn = (input: string) => !input.includes('node_modules/') && (input.startsWith('lambdas/') || input.startsWith('lib/'));

async function bundle(options: BuildOptions, outfile: string): Promise<Metafile> {
  const result = await build({ ...lambdaBuildOptions, ...options, outfile, metafile: true, write: true, absWorkingDir: repoRoot });
  return result.metafile;
}

export async function buildAll(outDir: string): Promise<BundleResult[]> {
  await mkdir(outDir, { recursive: true });
  const entries = functionEntries();
  // One esbuild run for every function (the same options, one output file each): far quicker
  // than one run per function on a loaded machine, and byte-identical per output.
  const result = await build({
    ...lambdaBuildOptions,
    entryPoints: Object.fromEntries(entries.map(({ id, entry }) => [id, join(repoRoot, entry)])),
    outdir: outDir,
    metafile: true,
    write: true,
    absWorkingDir: repoRoot,
  });
  const outputs = result.metafile.outputs;
  // As the stack's command hook does for the browser-files function: static/ beside the bundle.
  const staticDir = join(repoRoot, 'lambdas', 'pages', 'static');
  if (existsSync(staticDir)) await cp(staticDir, join(outDir, 'static'), { recursive: true });
  // As its command hook does for GET /openapi.json: the document, generated at build time.
  await writeFile(join(outDir, openApiDocumentFile), JSON.stringify(openApiDocument()));
  const results: BundleResult[] = [];
  const sdkEntries = new Map<string, string>();
  for (const { id, entry } of entries) {
    const file = join(outDir, `${id}.js`);
    const output = Object.entries(outputs).find(([out]) => join(repoRoot, out) === file)?.[1];
    if (!output) throw new Error(`esbuild wrote no bundle for ${id}`);
    let zodBytes = 0;
    let ownBytes = 0;
    const bundledPackages = new Set<string>();
    const sdkImports: Record<string, Set<string>> = {};
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      if (/node_modules\/zod\//.test(input)) zodBytes += bytesInOutput;
      const pkg = /node_modules\/(@aws-sdk\/[^/]+)\//.exec(input)?.[1];
      if (pkg && bytesInOutput > 0) bundledPackages.add(pkg);
      if (!isOwn(input)) continue;
      ownBytes += bytesInOutput;
      if (bytesInOutput === 0) continue;
      for (const [p, names] of Object.entries(sdkValueImports(readFileSync(join(repoRoot, input), 'utf8')))) {
        for (const n of names) (sdkImports[p] ??= new Set()).add(n);
      }
    }
    // A file esbuild kept in part may import a client it dropped: count a package only if its
    // code is in the bundle.
    const imports = Object.fromEntries(
      Object.entries(sdkImports)
        .filter(([p]) => bundledPackages.has(p))
        .sort()
        .map(([p, names]) => [p, [...names].sort()]),
    );
    const contents = Object.entries(imports)
      .map(([p, names], i) => `export { ${names.map((n) => `${n} as m${i}_${n}`).join(', ')} } from '${p}';`)
      .join('\n');
    const sdkOnlyKey = createHash('sha256').update(contents).digest('hex').slice(0, 12);
    sdkEntries.set(sdkOnlyKey, contents || '// no SDK\n');
    results.push({
      id,
      entry,
      bytes: output.bytes,
      zodBytes,
      ownBytes,
      sdkImports: imports,
      sdkOnlyBytes: 0,
      file,
      sdkOnlyFile: join(outDir, `sdk-only-${sdkOnlyKey}.js`),
      sdkOnlyKey,
    });
  }
  // Functions that import the same SDK values share one SDK-only entry: one esbuild run for all.
  const entryDir = join(outDir, 'sdk-only-src');
  await mkdir(entryDir, { recursive: true });
  for (const [key, contents] of sdkEntries) await writeFile(join(entryDir, `sdk-only-${key}.ts`), contents);
  const sdk = await build({
    ...lambdaBuildOptions,
    entryPoints: [...sdkEntries.keys()].map((key) => join(entryDir, `sdk-only-${key}.ts`)),
    // The generated entries live outside the repository: resolve packages from its node_modules.
    nodePaths: [join(repoRoot, 'node_modules')],
    outdir: outDir,
    metafile: true,
    write: true,
    absWorkingDir: repoRoot,
  });
  const sdkBytes = new Map(Object.entries(sdk.metafile.outputs).map(([out, o]) => [join(repoRoot, out), o.bytes]));
  for (const r of results) r.sdkOnlyBytes = sdkBytes.get(r.sdkOnlyFile) ?? NaN;
  return results;
}

/** Bundle size of an entry given as source (used for the zod and zod/mini reference points). */
export async function bundleBytes(contents: string, outDir: string, name: string): Promise<number> {
  const meta = await bundle({ stdin: { contents, resolveDir: repoRoot, loader: 'ts', sourcefile: `${name}.ts` } }, join(outDir, `${name}.js`));
  return Object.values(meta.outputs)[0]!.bytes;
}

/** What a function sees at cold start, minus anything reachable: requires must not fail on config. */
const initEnv = {
  PATH: process.env.PATH ?? '',
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'bench',
  AWS_SECRET_ACCESS_KEY: 'bench',
  RECORDS_TABLE: 'records',
  AUDIT_TABLE: 'audit',
  STAFF_POOL_ID: 'us-east-1_staff',
  STAFF_CLIENT_ID: 'staffclient',
  PATIENT_POOL_ID: 'us-east-1_patients',
  PATIENT_CLIENT_ID: 'patientclient',
  PORTAL_URL: 'https://portal.example.test',
  SENDER_EMAIL: 'portal@example.test',
  LOG_LEVEL: 'silent',
};

// Runs in the fresh process: time only the require of the bundle, not node's own start-up.
const probe = `const { performance } = require('node:perf_hooks');
const t = performance.now();
const m = require(process.argv[1]);
const ms = performance.now() - t;
if (m && m.handler !== undefined && typeof m.handler !== 'function') throw new Error('handler is not a function');
process.stdout.write(String(ms));`;

/** Milliseconds to require `file` in one fresh node process. */
export function initOnce(file: string): Promise<number> {
  return new Promise((resolve, reject) => {
    // LAMBDA_TASK_ROOT: where Lambda unpacks the bundle (the pages read static/ from there).
    const child = spawn(process.execPath, ['-e', probe, file], { env: { ...initEnv, LAMBDA_TASK_ROOT: dirname(file) }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = Number(out);
      if (code === 0 && Number.isFinite(ms)) resolve(ms);
      else reject(new Error(`init probe of ${file} exited ${code}: ${err.split('\n')[0]}`));
    });
  });
}

export interface InitStats {
  median: number;
  p90: number;
  samples: number[];
}

export const initStats = (samples: number[]): InitStats => ({ median: median(samples), p90: percentile(samples, 90), samples });

/**
 * Init times for every bundle, `runs` fresh processes each. Rounds are interleaved (every bundle
 * once, then again…) so a change in machine load falls on handler and SDK-only bundles alike.
 */
export async function measureInit(files: string[], runs: number, onRound?: (round: number) => void): Promise<Map<string, InitStats>> {
  const unique = [...new Set(files)];
  const samples = new Map(unique.map((f) => [f, [] as number[]]));
  for (let round = 0; round < runs; round++) {
    for (const f of unique) samples.get(f)!.push(await initOnce(f));
    onRound?.(round + 1);
  }
  return new Map([...samples].map(([f, xs]) => [f, initStats(xs)]));
}

export async function writeJson(file: string, value: unknown): Promise<void> {
  await writeFile(file, `${JSON.stringify(value, null, 2)}\n`);
}
