/**
 * Starts the local stack once per integration run: a fresh temp data dir and OS-chosen free ports,
 * so it never clashes with a developer's running `npm start`. Tests read its stack.json content
 * with inject('stack') (see support/stack.ts). The handlers run in this (vitest's main) process.
 *
 * Security rule 20: the run's logs are captured (every handler log line, whatever LOG_LEVEL says,
 * and whatever this process prints through console) into a capture directory, beside the secrets
 * the tests used (support/stack.ts records them per worker). At teardown no secret may appear in
 * any captured line; a leak fails the run (exit code 1), reported without the secret itself.
 * The emulators' own output (DynamoDB Local, cognito-local, aws-ses-v2-local) stands for AWS's
 * services, whose internals never reach our log groups: it is checked only with
 * LOG_HYGIENE_EMULATORS=1.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { freePorts } from '../../lib/local/ports.ts';
import { startLocalStack, type StackInfo } from '../../lib/local/stack.ts';
import { captureConsole, captureHandlerLogs, describeLeaks, findLeaks, readLogs, readSecrets, recordSecrets } from './support/log-hygiene.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    stack: StackInfo;
    /** Where workers record the secrets they use and their handler log lines (rule 20). */
    logCaptureDir: string;
    /** A free port whose http://localhost:<port> is the stack's one staff web client origin (test/browser/cors.test.ts). */
    staffClientPort: number;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // The handlers run in this process: keep their request logs out of the test report unless asked
  // (the capture below still gets every line).
  if (!process.env.LOCAL_STACK_VERBOSE) process.env.LOG_LEVEL ??= 'silent';
  const captureDir = await mkdtemp(join(tmpdir(), 'portal-access-logs-'));
  const stopHandlerCapture = captureHandlerLogs(captureDir);
  const stopConsoleCapture = captureConsole(captureDir);
  const restoreConsole = () => {
    stopHandlerCapture();
    stopConsoleCapture();
  };
  const dataDir = await mkdtemp(join(tmpdir(), 'portal-access-it-'));
  let stack: Awaited<ReturnType<typeof startLocalStack>>;
  // Issue 21: a second local origin the staff web client's page is served from (the CORS browser test).
  const staffClientPort = (await freePorts()).api;
  process.env.STAFF_ORIGINS = `http://localhost:${staffClientPort}`;
  try {
    stack = await startLocalStack({
      dataDir,
      ports: await freePorts(),
      fresh: true,
      testClock: true,
      onProgress: process.env.LOCAL_STACK_VERBOSE ? (p) => console.log(`  local stack: ${p.step} ${p.detail}`) : undefined,
    });
  } catch (err) {
    restoreConsole();
    await rm(captureDir, { recursive: true, force: true });
    throw err;
  }
  console.log(`local stack ready in ${(stack.startupMs / 1000).toFixed(1)} s (${stack.info.apiUrl}, data ${dataDir})`);
  recordSecrets(captureDir, [
    { field: 'password', value: stack.info.admin.password, source: 'the seeded admin login' },
    { field: 'password', value: stack.info.staff.password, source: 'the seeded staff login' },
    { field: 'totpSecret', value: stack.info.admin.totpSecret, source: 'the seeded admin login' },
    { field: 'totpSecret', value: stack.info.staff.totpSecret, source: 'the seeded staff login' },
  ]);
  project.provide('stack', stack.info);
  project.provide('logCaptureDir', captureDir);
  project.provide('staffClientPort', staffClientPort);
  return async () => {
    try {
      await stack.stop();
    } finally {
      restoreConsole();
    }
    let leaked = false;
    try {
      const logs = readLogs(captureDir);
      if (process.env.LOG_HYGIENE_EMULATORS) logs.push(...emulatorLogs(dataDir));
      const secrets = readSecrets(captureDir);
      const fromRequests = secrets.some((s) => / (request|response)$/.test(s.source));
      const handlerLines = logs.some((l) => /"requestId":/.test(l.text));
      if (fromRequests && !handlerLines) {
        leaked = true;
        throw new Error('rule 20: requests were made but no handler log line was captured: the log check would prove nothing');
      }
      const leaks = findLeaks(logs, secrets);
      if (leaks.length > 0) {
        leaked = true;
        throw new Error(`${describeLeaks(leaks)}\n  (captured logs kept in ${captureDir})`);
      }
    } catch (err) {
      // Vitest reports an error thrown here but still exits 0: the exit code makes it fail the run.
      process.exitCode = 1;
      throw err;
    } finally {
      await rm(dataDir, { recursive: true, force: true });
      if (!leaked) await rm(captureDir, { recursive: true, force: true });
    }
  };
}

/** Each emulator's output (lib/local/processes.ts writes it to <dataDir>/logs/<name>.log). */
function emulatorLogs(dataDir: string): { name: string; text: string }[] {
  const dir = join(dataDir, 'logs');
  if (!existsSync(dir)) return [];
  return readdirSync(dir).map((f) => ({ name: `emulator ${f}`, text: readFileSync(join(dir, f), 'utf8') }));
}
