// @ts-check
/**
 * The mutation score per file, from Stryker's JSON reports (issue 20): `node test/mutation/scores.mjs
 * [report.json …] [--survivors]`. Without arguments it reads the incremental state of `npm run
 * mutation` (.stryker/incremental.json) and of any per-file runs kept under .stryker/inc/ (the
 * newest report of a file wins). Score as Stryker counts it: (killed + timeout) / (killed +
 * timeout + survived + no coverage); ignored and invalid mutants are left out.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const args = process.argv.slice(2);
const showSurvivors = args.includes('--survivors');
let reports = args.filter((a) => !a.startsWith('--'));
if (reports.length === 0) {
  const inc = '.stryker/inc';
  reports = [
    ...(existsSync('.stryker/incremental.json') ? ['.stryker/incremental.json'] : []),
    ...(existsSync(inc) ? readdirSync(inc).filter((f) => f.endsWith('.json')).map((f) => join(inc, f)) : []),
  ];
}
reports.sort((a, b) => statSync(a).mtimeMs - statSync(b).mtimeMs);

/** @type {Map<string, any[]>} */
const files = new Map();
for (const report of reports) {
  const json = JSON.parse(readFileSync(report, 'utf8'));
  for (const [name, file] of Object.entries(json.files ?? {})) files.set(relative(process.cwd(), name) || name, file.mutants);
}

const rows = [];
const total = { mutants: 0, killed: 0, survived: 0, ignored: 0 };
for (const [name, mutants] of [...files].sort(([a], [b]) => a.localeCompare(b))) {
  const count = (...s) => mutants.filter((m) => s.includes(m.status)).length;
  const killed = count('Killed', 'Timeout');
  const survived = count('Survived', 'NoCoverage');
  const ignored = count('Ignored');
  rows.push({ name, mutants: killed + survived, killed, survived, ignored, score: killed + survived ? (100 * killed) / (killed + survived) : 100 });
  total.mutants += killed + survived;
  total.killed += killed;
  total.survived += survived;
  total.ignored += ignored;
  if (showSurvivors) {
    for (const m of mutants.filter((m) => m.status === 'Survived' || m.status === 'NoCoverage')) {
      console.log(`${name}:${m.location.start.line}:${m.location.start.column} ${m.status} ${m.mutatorName} → ${JSON.stringify(m.replacement ?? '')}`);
    }
  }
}
console.log('| file | mutants | killed | survived | ignored | score |');
console.log('|---|---:|---:|---:|---:|---:|');
for (const r of rows) console.log(`| ${r.name} | ${r.mutants} | ${r.killed} | ${r.survived} | ${r.ignored} | ${r.score.toFixed(1)} % |`);
const score = total.mutants ? (100 * total.killed) / total.mutants : 100;
console.log(`| **all** | ${total.mutants} | ${total.killed} | ${total.survived} | ${total.ignored} | ${score.toFixed(1)} % |`);
