/**
 * Starts the local stack once per integration run: a fresh temp data dir and OS-chosen free ports,
 * so it never clashes with a developer's running `npm start`. Tests read its stack.json content
 * with inject('stack') (see support/stack.ts). The handlers run in this (vitest's main) process.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { freePorts } from '../../lib/local/ports.ts';
import { startLocalStack, type StackInfo } from '../../lib/local/stack.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    stack: StackInfo;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // The handlers run in this process: keep their request logs out of the test report unless asked.
  if (!process.env.LOCAL_STACK_VERBOSE) process.env.LOG_LEVEL ??= 'silent';
  const dataDir = await mkdtemp(join(tmpdir(), 'portal-access-it-'));
  const stack = await startLocalStack({
    dataDir,
    ports: await freePorts(),
    fresh: true,
    testClock: true,
    onProgress: process.env.LOCAL_STACK_VERBOSE ? (p) => console.log(`  local stack: ${p.step} ${p.detail}`) : undefined,
  });
  console.log(`local stack ready in ${(stack.startupMs / 1000).toFixed(1)} s (${stack.info.apiUrl}, data ${dataDir})`);
  project.provide('stack', stack.info);
  return async () => {
    await stack.stop();
    await rm(dataDir, { recursive: true, force: true });
  };
}
