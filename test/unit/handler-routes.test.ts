/**
 * Issue 16: every handler names its route in its own flow's file (lib/routes/<flow>.ts), never in
 * the gathered table (lib/routes.ts, every route file and every request schema of the API), so a
 * function bundles its flow's entries only. Two things can go wrong, and each fails here:
 *   - a handler runs a route entry that is not the table's entry for its id (the stack wires a
 *     function to a route id and its grants, the local server and OpenAPI read the table: the
 *     handler must run that very entry, not a copy or another flow's), and
 *   - a function's bundle pulls in the whole table (or another flow's route file) again.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { lambdaBuildOptions } from '../../bench/lib/bundles.ts';
import { defineHandler as defineStaffHandler } from '../../lambdas/http/staff-handler.ts';
import { defineHandler as definePatientHandler } from '../../lambdas/http/patient-handler.ts';
import { defineHandler as defineLobbyHandler } from '../../lambdas/http/lobby-handler.ts';
import { defineHandler as definePublicHandler } from '../../lambdas/http/public-handler.ts';
import { defineHandler as defineStandaloneHandler } from '../../lambdas/http/standalone-handler.ts';
import { accountRoutes } from '../../lib/routes/account.ts';
import { lobbyRoutes } from '../../lib/routes/lobby.ts';
import { portalRecordRoutes } from '../../lib/routes/portal-record.ts';
import { routeById, routes, type Route, type RouteId } from '../../lib/routes.ts';
import { serviceRoutes } from '../../lib/routes/service.ts';
import { repoRoot } from '../../lib/stack/portal-function.ts';

const handlerFiles = (dir: string): string[] =>
  readdirSync(join(repoRoot, dir), { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? handlerFiles(join(dir, d.name)) : d.name.endsWith('.ts') ? [join(dir, d.name)] : [],
  );

interface Import {
  names: string[];
  from: string;
  typeOnly: boolean;
}
const importsCache = new Map<string, Import[]>();

/** Every module a file imports or re-exports from, as paths relative to the repository (read once per file). */
function importsOf(file: string): Import[] {
  let found = importsCache.get(file);
  if (!found) importsCache.set(file, (found = parseImports(file)));
  return found;
}

function parseImports(file: string): Import[] {
  const source = readFileSync(join(repoRoot, file), 'utf8');
  return [...source.matchAll(/^(?:import|export)\s+(type\s+)?(?:\{([^}]*)\}|\*(?:\s+as\s+\w+)?|\w+)[^'";]*from\s*'([^']+)'/gm)].map((m) => ({
    // The local names (`a as b` binds b).
    names: (m[2] ?? '').split(',').map((n) => n.replace(/^\s*type\s+/, '').trim().split(/\s+as\s+/).pop()!).filter(Boolean),
    from: m[3]!.startsWith('.') ? relative(repoRoot, join(repoRoot, dirname(file), m[3]!)) : m[3]!,
    typeOnly: m[1] !== undefined,
  }));
}

/** What a handler file passes to defineHandler: the flow's routes it names, where they come from, and the id. */
function definedRoute(file: string): { routesName: string; routesFile: string; id: string } | undefined {
  const call = /defineHandler\(\s*(\w+),\s*'([^']+)'/.exec(readFileSync(join(repoRoot, file), 'utf8'));
  if (!call) return undefined;
  const routesName = call[1]!;
  const source = importsOf(file).find((i) => i.names.includes(routesName));
  return { routesName, routesFile: source?.from ?? '(not imported)', id: call[2]! };
}

const isRouteFile = (p: string) => p === 'lib/routes.ts' || (p.startsWith('lib/routes/') && p !== 'lib/routes/types.ts');

/**
 * The route files (lib/routes.ts, lib/routes/<flow>.ts) a file reaches through the imports
 * esbuild follows: our own modules, by value (`import type` is erased; an import of types only
 * written `import { type X }` is kept by verbatimModuleSyntax, so it counts).
 */
function reachedRouteFiles(file: string): string[] {
  const seen = new Set<string>();
  const visit = (f: string) => {
    if (seen.has(f)) return;
    seen.add(f);
    if (isRouteFile(f)) return;
    for (const i of importsOf(f)) if (!i.typeOnly && /^(lambdas|lib)\/.*\.ts$/.test(i.from)) visit(i.from);
  };
  visit(file);
  return [...seen].filter(isRouteFile).sort();
}

describe("each handler's route", () => {
  it("is the table's own entry for its id, taken from its flow's route file, in the file the table names", async () => {
    const defined = handlerFiles('lambdas/handlers').flatMap((file) => {
      const d = definedRoute(file);
      return d ? [{ file, ...d }] : [];
    });
    // Every route's handler is among them (a file with no defineHandler is a helper or not a route).
    expect(defined.map((d) => d.id).sort()).toEqual(routes.map((r) => r.id).sort());
    for (const d of defined) {
      expect(d.routesFile, d.file).toMatch(/^lib\/routes\/[a-z-]+\.ts$/);
      const flow = (await import(join(repoRoot, d.routesFile))) as Record<string, readonly Route[]>;
      const entry = flow[d.routesName]?.find((r) => r.id === d.id);
      // The very object the table gathers: same caller, grants, schemas, whatever is edited later.
      expect(entry, `${d.file}: ${d.id} in ${d.routesFile}`).toBe(routeById(d.id as RouteId));
      // And the stack bundles this file for this id.
      expect(entry?.entry, d.id).toBe(d.file);
    }
  });

  it('rule 28: every route builds with its own caller\'s module and with no other (staff and admin share one)', () => {
    const run = async () => ({ status: 200 }) as never;
    const builders = {
      staff: (id: string) => defineStaffHandler(routes as never, id as never, run),
      patient: (id: string) => definePatientHandler(routes as never, id as never, run),
      lobby: (id: string) => defineLobbyHandler(routes as never, id as never, run),
      public: (id: string) => definePublicHandler(routes as never, id as never, run),
      standalone: (id: string) => defineStandaloneHandler(routes as never, id as never, run),
    };
    for (const r of routes) {
      const own = r.caller === 'admin' ? 'staff' : r.caller === 'public' && r.grants.length === 0 ? 'standalone' : r.caller;
      for (const [name, build] of Object.entries(builders)) {
        // A public route with no grants may also take the public chain; every other pairing is refused.
        const accepts = name === own || (name === 'public' && own === 'standalone');
        if (accepts) expect(() => build(r.id), `${r.id} with ${name}`).not.toThrow();
        else expect(() => build(r.id), `${r.id} with ${name}`).toThrow();
      }
    }
  });

  it('fails at cold start when the id is not among the routes it is given, or its caller is not the builder\'s', () => {
    const run = async () => ({ status: 200 }) as never;
    expect(() => defineStaffHandler(serviceRoutes, 'portal-record-get' as never, run)).toThrow(/no route portal-record-get/);
    expect(() => defineStaffHandler(serviceRoutes, 'health' as never, run)).toThrow(/not a staff route/);
    expect(() => defineStaffHandler(accountRoutes, 'account-get' as never, run)).toThrow(/not a staff route/);
    expect(() => definePatientHandler(portalRecordRoutes, 'portal-record-get' as never, run)).toThrow(/not a patient route/);
    expect(() => definePatientHandler(lobbyRoutes, 'lobby-session-current' as never, run)).toThrow(/not a patient route/);
    expect(() => defineLobbyHandler(accountRoutes, 'account-get' as never, run)).toThrow(/not a lobby route/);
    // The right caller builds.
    expect(typeof defineStaffHandler(portalRecordRoutes, 'portal-record-get', run)).toBe('function');
  });

  it("is never taken from the whole table: no function's own files reach lib/routes.ts or another flow's route file", () => {
    const wrong: string[] = [];
    for (const file of handlerFiles('lambdas/handlers')) {
      const own = definedRoute(file)?.routesFile;
      // Its own flow's file, never the table (even when the handler names the table as its flow).
      for (const p of reachedRouteFiles(file)) if (p !== own || p === 'lib/routes.ts') wrong.push(`${file}: ${p}`);
    }
    for (const file of handlerFiles('lambdas/triggers')) wrong.push(...reachedRouteFiles(file).map((p) => `${file}: ${p}`));
    expect(wrong).toEqual([]);
  });

  it("bundles the token check of its own caller only: each handler builds with its caller's module", () => {
    const moduleFor = { public: ['public-handler', 'standalone-handler'], staff: ['staff-handler'], admin: ['staff-handler'], patient: ['patient-handler'], lobby: ['lobby-handler'] };
    const wrong = routes.flatMap((r) => {
      const builders = importsOf(r.entry).filter((i) => /^lambdas\/http\/[a-z-]*handler\.ts$/.test(i.from) && i.names.includes('defineHandler'));
      const used = builders.map((i) => /([a-z-]+)\.ts$/.exec(i.from)![1]!);
      return used.length === 1 && moduleFor[r.caller].includes(used[0]!) ? [] : [`${r.entry} (${r.caller}): ${used.join(', ') || 'no builder'}`];
    });
    expect(wrong).toEqual([]);
  });

  // The scan above reads import lines; esbuild's metafile is what a function really bundles.
  // Two functions, one staff and one public.
  for (const entry of ['lambdas/handlers/invitations/create.ts', 'lambdas/handlers/registration/create.ts']) {
    it(`${entry}: its bundle holds its flow's route file and no other, as the scan says`, { timeout: 120_000 }, async () => {
      const result = await build({ ...lambdaBuildOptions, entryPoints: [join(repoRoot, entry)], outdir: '/tmp/handler-routes-test', write: false, metafile: true, absWorkingDir: repoRoot });
      const inputs = Object.keys(Object.values(result.metafile.outputs)[0]!.inputs);
      expect(inputs.filter(isRouteFile)).toEqual([definedRoute(entry)!.routesFile]);
      expect(reachedRouteFiles(entry)).toEqual([definedRoute(entry)!.routesFile]);
      // And no token check of another caller: the staff function has no patient or lobby check, the public one none.
      const checks = inputs.filter((p) => /^lambdas\/http\/(auth|patient-auth|lobby-auth)\.ts$/.test(p));
      expect(checks).toEqual(entry.includes('invitations') ? ['lambdas/http/auth.ts'] : []);
    });
  }
});
