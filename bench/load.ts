/**
 * `npm run load [-- --seconds 60 --accounts 20 --buffer 30]`: a mixed workload on a fresh local
 * stack with autocannon, then a check that no confirmed write was lost.
 *
 * 1. Starts its own local stack in a child process (bench/load/stack-process.ts): free ports, a
 *    temporary data dir, the handlers' logs in bench/results/load-<time>.api.log.
 * 2. Prepares through the API: a staff token, `accounts` registered patients (sign-in and reset
 *    targets, each its own password) and `buffer` invitations ready to register.
 * 3. Runs four flows at once for `seconds` (bench/load/flows.ts): sign-in (POST /sessions),
 *    invite (PUT record + POST invitation), register (POST /invitations/lookup + POST
 *    /registrations, fed by the buffer and by the invite flow's own invitations through the
 *    mailbox) and reset (POST /credential-resets).
 * 4. Checks every confirmed write (bench/load/verify.ts) and prints, per route, requests, req/s,
 *    p50/p99 latency and answers by status class; writes the same as JSON beside the log.
 *
 * Exits 1 on any 5xx, any answer outside a route's expected set (429 excepted: the guessing
 * limits may answer it and it is counted on its own), any request without an answer, or any
 * lost write. Every request comes from 127.0.0.1: the per-address limits count failures only,
 * and this workload sends correct credentials and live links, spread over many accounts.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { apiClient } from './load/client.ts';
import { connections, runFlows, type FlowResult } from './load/flows.ts';
import { Ledger } from './load/ledger.ts';
import { InvitationMailbox } from './load/mailbox.ts';
import { invitations, registeredPatients, staffToken } from './load/prepare.ts';
import { startStackProcess } from './load/stack.ts';
import { judge } from './load/judge.ts';
import { formatTable, LoadStats, type RouteSummary } from './load/stats.ts';
import { verifyWrites, type Verification } from './load/verify.ts';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '60' },
    accounts: { type: 'string', default: '20' },
    buffer: { type: 'string', default: '30' },
  },
});
const positiveInt = (name: string, value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, not ${value}`);
  return n;
};
const seconds = positiveInt('seconds', args.seconds);
const accountCount = positiveInt('accounts', args.accounts);
const bufferCount = positiveInt('buffer', args.buffer);

const resultsDir = fileURLToPath(new URL('./results/', import.meta.url));
const step = (text: string) => console.log(`${new Date().toISOString().slice(11, 19)}  ${text}`);

async function main(): Promise<number> {
  await mkdir(resultsDir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const apiLog = join(resultsDir, `load-${stamp}.api.log`);

  step('starting a fresh local stack');
  const stack = await startStackProcess(apiLog);
  let keepDataDir = false;
  try {
    step(`stack ready in ${(stack.startupMs / 1000).toFixed(1)} s (${stack.info.apiUrl})`);
    const call = apiClient(stack.info.apiUrl);
    const mailbox = new InvitationMailbox(stack.info.mailboxUrl);
    const ledger = new Ledger();

    const prepStarted = performance.now();
    const token = await staffToken(call, stack.info.staff);
    const accounts = await registeredPatients(call, mailbox, token, accountCount);
    const buffer = await invitations(call, mailbox, token, 'buf', bufferCount);
    for (const p of [...accounts, ...buffer]) {
      ledger.records.set(p.patientId, p.email);
      ledger.invitations.add(p.patientId);
    }
    for (const a of accounts) ledger.registrations.set(a.patientId, a);
    ledger.addReady(buffer);
    step(`prepared ${accounts.length} registered patients and ${buffer.length} invitations in ${((performance.now() - prepStarted) / 1000).toFixed(1)} s`);

    const mix = Object.entries(connections).map(([flow, n]) => `${flow} ${n}`).join(', ');
    step(`load: ${seconds} s, connections ${mix}`);
    const stats = new LoadStats();
    const polling = pollMailbox(mailbox, ledger);
    const loadStarted = performance.now();
    const flows = await runFlows({ apiUrl: stack.info.apiUrl, seconds, staffToken: token, accounts, ledger, stats });
    const elapsed = (performance.now() - loadStarted) / 1000;
    // The numbers mean little without the machine's state: this stack shares the CPUs with everything else.
    const machine = { cpus: availableParallelism(), loadAverage1m: Number(loadavg()[0]!.toFixed(2)) };
    await polling.stop();

    step('checking every confirmed write');
    const verification = await verifyWrites(call, token, ledger);
    const summary = stats.summary(elapsed);
    const failures = judge(summary, flows, verification);
    report(summary, flows, verification, ledger, elapsed, failures, machine);
    await writeFile(
      join(resultsDir, `load-${stamp}.json`),
      `${JSON.stringify({ seconds, elapsed, machine, connections, accounts: accountCount, buffer: bufferCount, routes: summary, flows, verification: { ...verification, problems: verification.problems.length }, starved: ledger.starved, failures }, null, 2)}\n`,
    );
    step(`results in ${join(resultsDir, `load-${stamp}.json`)}; the handlers' log in ${apiLog}`);
    keepDataDir = failures.length > 0;
    return failures.length > 0 ? 1 : 0;
  } catch (err) {
    keepDataDir = true;
    throw err;
  } finally {
    await stack.stop();
    if (keepDataDir) console.log(`emulator logs kept in ${join(stack.dataDir, 'logs')}`);
    else await rm(stack.dataDir, { recursive: true, force: true });
  }
}

/** Feeds the invite flow's links to the register flow while the load runs. */
function pollMailbox(mailbox: InvitationMailbox, ledger: Ledger) {
  let running = true;
  let failedPolls = 0;
  const loop = (async () => {
    while (running) {
      try {
        for (const mail of await mailbox.poll()) ledger.linkArrived(mail.to, mail.token);
      } catch {
        // A slow or busy mailbox only delays registrations (the register flow idles meanwhile).
        failedPolls++;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    if (failedPolls > 0) step(`the mailbox failed ${failedPolls} polls during the load`);
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

function report(
  summary: readonly RouteSummary[],
  flows: readonly FlowResult[],
  verification: Verification,
  ledger: Ledger,
  elapsed: number,
  failures: readonly string[],
  machine: { cpus: number; loadAverage1m: number },
): void {
  console.log(`\n${formatTable(summary)}\n`);
  console.log(`load phase ${elapsed.toFixed(1)} s; 429 counted apart from 4xx (the guessing limits), not a failure`);
  console.log(`machine: ${machine.cpus} CPUs, load average ${machine.loadAverage1m} (1 min) at the end of the load phase`);
  console.log(`flows: ${flows.map((f) => `${f.flow} ${f.connections} conn, ${f.errors} errors, ${f.timeouts} timeouts`).join('; ')}`);
  if (ledger.starved > 0) console.log(`register flow found no invitation ready ${ledger.starved} times (sent GET /health instead)`);
  console.log(
    `writes checked: ${verification.recordsChecked} records, ${verification.invitationsChecked} invitations, ${verification.registrationsChecked} registrations (each signed in)`,
  );
  for (const problem of verification.problems.slice(0, 20)) console.log(`  lost: ${problem}`);
  if (verification.problems.length > 20) console.log(`  … and ${verification.problems.length - 20} more`);
  console.log(failures.length === 0 ? '\nPASS: no 5xx, no unexpected answer, no lost write' : `\nFAIL:\n  ${failures.join('\n  ')}`);
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
