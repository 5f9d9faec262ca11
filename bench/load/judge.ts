/** What fails the run. 429 does not: the guessing limits may answer it, and it is counted apart. */
import type { FlowResult } from './flows.ts';
import type { RouteSummary } from './stats.ts';
import type { Verification } from './verify.ts';

export function judge(summary: readonly RouteSummary[], flows: readonly FlowResult[], verification: Verification): string[] {
  const failures: string[] = [];
  for (const r of summary) {
    if (r.byClass['5xx'] > 0) failures.push(`${r.route}: ${r.byClass['5xx']} answers 5xx`);
    for (const [status, count] of Object.entries(r.unexpected)) failures.push(`${r.route}: ${count} unexpected ${status}`);
  }
  for (const f of flows) {
    if (f.errors > 0) failures.push(`${f.flow}: ${f.errors} requests without an answer (${f.timeouts} timed out)`);
  }
  if (verification.problems.length > 0) failures.push(`${verification.problems.length} lost writes`);
  return failures;
}
