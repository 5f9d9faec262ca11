/**
 * The system under test, in a process of its own: a fresh local stack (emulators + the API
 * server running the handlers) on free ports in a temporary data dir. Forked by bench/load.ts,
 * so the load tool and the handlers never share an event loop. Sends `{ ready, info, dataDir }`
 * over IPC once the API answers; stops everything on SIGTERM, SIGINT or when the parent goes.
 * Its stdout (the handlers' JSON request logs) goes wherever the parent points it.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePorts } from '../../lib/local/ports.ts';
import { startLocalStack, type StackInfo } from '../../lib/local/stack.ts';

export type StackMessage = { ready: true; info: StackInfo; dataDir: string; startupMs: number } | { ready: false; error: string };

async function main(): Promise<void> {
  if (!process.send) throw new Error('stack-process.ts is started by bench/load.ts (it needs an IPC channel)');
  const dataDir = await mkdtemp(join(tmpdir(), 'portal-load-'));
  const stack = await startLocalStack({ dataDir, ports: await freePorts(), fresh: true });
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    void stack.stop().finally(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.on('disconnect', stop);
  process.send({ ready: true, info: stack.info, dataDir, startupMs: stack.startupMs } satisfies StackMessage);
}

main().catch((err: unknown) => {
  process.send?.({ ready: false, error: err instanceof Error ? err.message : String(err) } satisfies StackMessage);
  process.exit(1);
});
