/**
 * The emulators run as child processes, each in a process group of its own (detached), so one
 * signal to the group ends the child and anything it started (Java included). Their output goes
 * to dataDir/logs/<name>.log; the last lines are kept in memory for error messages.
 */
import { spawn as spawnProcess, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const TAIL_BYTES = 4096;

export interface Child {
  readonly name: string;
  readonly pid: number;
  /** undefined while running; the exit code (or signal name) once it ended. */
  readonly exit: number | string | undefined;
  readonly exited: Promise<void>;
  /** The last lines the child wrote to stdout/stderr. */
  tail(): string;
}

/** Where children log to, and who must know about each child the moment it exists (to stop it). */
export interface Launch {
  logDir: string;
  track(child: Child): void;
}

/** Starts a child in its own process group and captures its output. */
export function startChild(launch: Launch, name: string, command: string, args: string[], options: SpawnOptions): Child {
  const child = supervise(name, launch.logDir, spawnProcess(command, args, { ...options, detached: true, stdio: 'pipe' }));
  launch.track(child);
  return child;
}

function supervise(name: string, logDir: string, proc: ChildProcess): Child {
  const log = createWriteStream(join(logDir, `${name}.log`), { flags: 'a' });
  let tail = '';
  const capture = (chunk: Buffer) => {
    log.write(chunk);
    tail = (tail + chunk.toString('utf8')).slice(-TAIL_BYTES);
  };
  proc.stdout?.on('data', capture);
  proc.stderr?.on('data', capture);

  let exit: number | string | undefined;
  const exited = new Promise<void>((resolve) => {
    proc.once('exit', (code, signal) => {
      exit = code ?? signal ?? 'unknown';
      log.end();
      resolve();
    });
    proc.once('error', (err) => {
      exit = err.message;
      tail += `\n${err.message}`;
      log.end();
      resolve();
    });
  });
  return {
    name,
    pid: proc.pid ?? -1, // -1 until spawned; an 'error' (e.g. ENOENT) sets exit

    get exit() {
      return exit;
    },
    exited,
    tail: () => tail.trim().split('\n').slice(-20).join('\n'),
  };
}

/** Polls `ready` until it answers true; fails early, with the child's output, if the child dies. */
export async function waitUntilReady(child: Child, ready: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exit !== undefined) {
      throw new Error(`${child.name} exited (${child.exit}) before it answered. Its last output:\n${child.tail()}`);
    }
    if (await ready().catch(() => false)) return;
    if (Date.now() > deadline) {
      throw new Error(`${child.name} did not answer within ${timeoutMs / 1000} s. Its last output:\n${child.tail()}`);
    }
    await sleep(100);
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  if (pid <= 0) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is already gone.
  }
}

/** SIGTERM to the child's group, SIGKILL if it has not exited after the grace period. */
export async function stopChild(child: Child, graceMs = 5000): Promise<void> {
  if (child.exit !== undefined) return;
  signalGroup(child.pid, 'SIGTERM');
  const ended = await Promise.race([child.exited.then(() => true), sleep(graceMs).then(() => false)]);
  if (!ended) {
    signalGroup(child.pid, 'SIGKILL');
    await child.exited;
  }
}

/** Synchronous last resort for process 'exit' (an uncaught error, process.exit()). */
export function killNow(child: Child): void {
  if (child.exit === undefined) signalGroup(child.pid, 'SIGKILL');
}

// --- Orphans of an earlier run -------------------------------------------------------------------

interface PidFile {
  owner: number;
  children: { name: string; pid: number }[];
}

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/**
 * Records who owns the children of this data dir, so a later run can clean up after a crash.
 * Synchronous: it is rewritten the moment each child exists.
 */
export function writePidFile(dataDir: string, children: readonly Child[]): void {
  const content: PidFile = { owner: process.pid, children: children.map(({ name, pid }) => ({ name, pid })) };
  writeFileSync(join(dataDir, 'pids.json'), `${JSON.stringify(content)}\n`);
}

/**
 * If an earlier run of this data dir died without stopping its children (SIGKILL, a crash),
 * they still hold the ports and the DynamoDB files. Ends them, but only where /proc shows the
 * process really belongs to this data dir; refuses while the owning run is still alive.
 */
export async function reapOrphans(dataDir: string): Promise<string[]> {
  const file = join(dataDir, 'pids.json');
  if (!existsSync(file)) return [];
  let recorded: PidFile;
  try {
    recorded = JSON.parse(readFileSync(file, 'utf8')) as PidFile;
  } catch {
    return [];
  }
  if (recorded.owner !== process.pid && isAlive(recorded.owner)) {
    throw new Error(
      `another local stack (pid ${recorded.owner}) is running with ${dataDir}; stop it first` +
        ` (or delete ${file} if that pid is not a local stack)`,
    );
  }
  const reaped: string[] = [];
  for (const { name, pid } of recorded.children) {
    if (!isAlive(pid) || !belongsTo(pid, dataDir)) continue;
    signalGroup(pid, 'SIGKILL');
    reaped.push(`${name} (pid ${pid})`);
  }
  if (reaped.length > 0) await sleep(300); // let the kernel release their ports
  return reaped;
}

function belongsTo(pid: number, dataDir: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(dataDir);
  } catch {
    return false; // no /proc (macOS): never kill what we cannot identify
  }
}

export async function ensureDir(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  return dir;
}
