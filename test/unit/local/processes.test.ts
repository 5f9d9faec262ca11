/** Child processes: early death is reported with the child's output; stop ends the whole group. */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startChild, stopChild, waitUntilReady, type Child, type Launch } from '../../../lib/local/processes.ts';

let logDir: string;
const started: Child[] = [];
const launch = (): Launch => ({ logDir, track: (c) => started.push(c) });
const node = (name: string, script: string) => startChild(launch(), name, process.execPath, ['-e', script], {});

/** Running, not merely a zombie waiting for init to reap it. */
const alive = (pid: number) => {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

const gone = async (pid: number) => {
  for (let i = 0; i < 40 && alive(pid); i++) await new Promise((resolve) => setTimeout(resolve, 50));
  return !alive(pid);
};

beforeAll(async () => {
  logDir = await mkdtemp(join(tmpdir(), 'portal-processes-'));
});
afterAll(async () => {
  await Promise.all(started.map((c) => stopChild(c, 500)));
  await rm(logDir, { recursive: true, force: true });
});

describe('waitUntilReady', () => {
  it('fails at once with the last output when the child dies before it answers', async () => {
    const child = node('dies', "console.error('port already bound, giving up'); process.exit(3)");
    const begun = Date.now();
    await expect(waitUntilReady(child, async () => false, 10_000)).rejects.toThrow(
      /dies exited \(3\) before it answered[\s\S]*port already bound/,
    );
    expect(Date.now() - begun).toBeLessThan(5000);
  });

  it('fails after the timeout when the child never answers', async () => {
    const child = node('silent', 'setInterval(() => {}, 1000)');
    await expect(waitUntilReady(child, async () => false, 300)).rejects.toThrow(/silent did not answer within 0.3 s/);
  });
});

describe('stopChild', () => {
  it('ends the child and what it started (its process group)', async () => {
    // The child starts a grandchild (as the JVM or a shell wrapper might) and prints its pid.
    const child = node(
      'parent',
      "const c = require('node:child_process').spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });" +
        "console.log('grandchild ' + c.pid); setInterval(() => {}, 1000);",
    );
    let grandchild = 0;
    await waitUntilReady(child, async () => {
      grandchild = Number(/grandchild (\d+)/.exec(child.tail())?.[1] ?? 0);
      return grandchild > 0;
    });
    expect(alive(grandchild)).toBe(true);
    await stopChild(child, 2000);
    expect(child.exit).toBeDefined();
    expect(await gone(grandchild)).toBe(true);
  });
});
