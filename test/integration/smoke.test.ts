/**
 * `npm run smoke -- --api <url>` (bin/smoke.ts) against the local stack, as a devops
 * engineer runs it after a deploy: spawned as its own process with the seeded admin's username,
 * password and TOTP secret in the environment (issue 12 item 7).
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { freshCode, staffSession } from './support/staff-session.ts';
import { api, stack } from './support/stack.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

function runSmoke(args: string[], env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'bin', 'smoke.ts'), ...args], {
      cwd: root,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out }));
  });
}

describe('npm run smoke', () => {
  it('passes every step against the local stack, with time per step, and prints no secret', { timeout: 120_000 }, async () => {
    const { admin, apiUrl } = stack();
    // Cognito refuses a TOTP code that already signed this user in: take a step no other test
    // used (the script signs in within it), and mark the step the script may have crossed into.
    await freshCode(admin.username, admin.totpSecret);
    const { code, out } = await runSmoke(['--api', apiUrl, '--patient', 'SMOKE-CHECK-1'], {
      SMOKE_STAFF_USERNAME: admin.username,
      SMOKE_STAFF_PASSWORD: admin.password,
      SMOKE_STAFF_TOTP_SECRET: admin.totpSecret,
    });
    await freshCode(admin.username, admin.totpSecret);

    for (const line of [
      /^✓ GET \/health \(\d+ ms\)$/m,
      /^✓ GET \/openapi\.json \(\d+ ms\)$/m,
      /^✓ staff sign-in \(password, then TOTP\) \(\d+ ms\)$/m,
      /^✓ PUT \/patients\/SMOKE-CHECK-1\/portal \(\d+ ms\)$/m,
      /^✓ POST \/patients\/SMOKE-CHECK-1\/portal\/invitation \(to success@simulator\.amazonses\.com\) \(\d+ ms\)$/m,
      /^✓ DELETE \/patients\/SMOKE-CHECK-1\/portal\/invitation \(\d+ ms\)$/m,
      /^✓ all steps passed$/m,
    ]) {
      expect(out, out).toMatch(line);
    }
    expect(code, out).toBe(0);
    expect(out).not.toContain(admin.password);
    expect(out).not.toContain(admin.totpSecret);
    expect(out).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}/); // no JWT

    // It did what it says: the smoke record exists and its invitation is cancelled.
    const { accessToken } = await staffSession('admin');
    const record = await api('/patients/SMOKE-CHECK-1/portal', { token: accessToken });
    expect(record.status).toBe(200);
    expect(record.json.email).toBe('success@simulator.amazonses.com');
    expect(record.json.invite.status).not.toBe('Pending');
  });

  it('run again, it passes again (a leftover invitation from a stopped run is cancelled first)', { timeout: 120_000 }, async () => {
    const { admin, apiUrl } = stack();
    const { accessToken } = await staffSession('admin');
    // A run that stopped after inviting: the invitation is still pending.
    expect((await api('/patients/SMOKE-CHECK-1/portal/invitation', { method: 'POST', token: accessToken })).status).toBe(201);
    await freshCode(admin.username, admin.totpSecret);
    const { code, out } = await runSmoke(['--api', `${apiUrl}/`, '--patient', 'SMOKE-CHECK-1'], {
      SMOKE_STAFF_USERNAME: admin.username,
      SMOKE_STAFF_PASSWORD: admin.password,
      SMOKE_STAFF_TOTP_SECRET: admin.totpSecret,
    });
    await freshCode(admin.username, admin.totpSecret);
    expect(out).toMatch(/^✓ all steps passed$/m);
    expect(code, out).toBe(0);
  });

  it('fails with exit 1 and ✗ when the TOTP secret is missing, skips what depended on sign-in, and still checks health and OpenAPI', { timeout: 60_000 }, async () => {
    const { admin, apiUrl } = stack();
    const { code, out } = await runSmoke(['--api', apiUrl], { SMOKE_STAFF_USERNAME: admin.username, SMOKE_STAFF_PASSWORD: admin.password });
    expect(code, out).toBe(1);
    expect(out).toMatch(/^✓ GET \/health/m);
    expect(out).toMatch(/^✓ GET \/openapi\.json/m);
    expect(out).toMatch(/^✗ staff sign-in \(password, then TOTP\) \(\d+ ms\): set SMOKE_STAFF_TOTP_SECRET$/m);
    expect(out).toMatch(/^– PUT \/patients\/SMOKE-CHECK\/portal: skipped \(sign-in failed\)$/m);
    expect(out).toMatch(/^– DELETE .*: skipped/m);
    expect(out).toMatch(/^✗ 1 step failed$/m);
    expect(out).not.toContain(admin.password);
  });

  it('fails with exit 1 when the API is not there', { timeout: 60_000 }, async () => {
    const { code, out } = await runSmoke(['--api', 'http://127.0.0.1:9/'], {});
    expect(code).toBe(1);
    expect(out).toMatch(/^✗ GET \/health/m);
  });
});
