/** Starts bench/load/stack-process.ts as a child process and waits until its stack is ready. */
import { fork, type ChildProcess } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { StackInfo } from '../../lib/local/stack.ts';
import type { StackMessage } from './stack-process.ts';

export interface StackUnderTest {
  info: StackInfo;
  /** The child's data dir: emulator logs under logs/, the handlers' log in logs/api.log. */
  dataDir: string;
  startupMs: number;
  stop(): Promise<void>;
}

const script = fileURLToPath(new URL('./stack-process.ts', import.meta.url));

/** `logFile` receives the child's stdout and stderr (the handlers' JSON request logs). */
export async function startStackProcess(logFile: string): Promise<StackUnderTest> {
  const log = openSync(logFile, 'a');
  // fork() reuses this process's execArgv, so the child runs under tsx like this one.
  const child = fork(script, [], { stdio: ['ignore', log, log, 'ipc'] });
  closeSync(log);
  // SIGTERM (not SIGKILL): the child then stops the emulators it started, even if we are gone.
  const killOnExit = () => child.kill('SIGTERM');
  process.on('exit', killOnExit);
  const stop = async () => {
    process.off('exit', killOnExit);
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  };
  try {
    const message = await firstMessage(child);
    if (!message.ready) throw new Error(`the local stack did not start: ${message.error}`);
    return { info: message.info, dataDir: message.dataDir, startupMs: message.startupMs, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

function firstMessage(child: ChildProcess): Promise<StackMessage> {
  return new Promise((resolve, reject) => {
    child.once('message', (m) => resolve(m as StackMessage));
    child.once('exit', (code, signal) => reject(new Error(`the stack process ended (${signal ?? code}) before it was ready; see its log`)));
  });
}
