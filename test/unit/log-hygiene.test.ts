/**
 * Rule 20's log check (test/integration/support/log-hygiene.ts), which the integration run's
 * teardown applies to all its logs: proof that it catches a leak, and what it counts as one.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../lambdas/http/logger.ts';
import {
  captureConsole,
  captureHandlerLogs,
  describeLeaks,
  findLeaks,
  readLogs,
  readSecrets,
  recordSecrets,
  secretsIn,
  secretsInEmail,
  secretsInUrl,
  type Secret,
} from '../integration/support/log-hygiene.ts';

const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'log-hygiene-'));
  dirs.push(dir);
  return dir;
};
const undo: (() => void)[] = [];
afterEach(() => {
  for (const u of undo.splice(0)) u();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const secret = (field: string, value: string): Secret => ({ field, value, source: 'POST /x request' });

describe('rule 20: the log check', () => {
  it('rule 20: finds a planted PIN, password, token, email and phone, and reports each without repeating it', () => {
    const planted = [
      secret('pin', 'K7MX4R'),
      secret('password', 'correct horse battery staple'),
      secret('token', 'dG9rZW4tb2YtMjU2LWJpdHM'),
      secret('email', 'pat@example.test'),
      secret('phone', '+15555550101'),
    ];
    const log = [
      '{"level":"info","msg":"request","requestId":"r-1","status":200}',
      ...planted.map((s, i) => `{"level":"info","msg":"oops","requestId":"r-${i + 2}","detail":"${s.value}"}`),
    ].join('\n');
    const leaks = findLeaks([{ name: 'logs-1.log', text: log }], planted);
    expect(leaks.map((l) => [l.field, l.where])).toEqual([
      ['pin', 'logs-1.log:2'],
      ['password', 'logs-1.log:3'],
      ['token', 'logs-1.log:4'],
      ['email', 'logs-1.log:5'],
      ['phone', 'logs-1.log:6'],
    ]);
    const report = describeLeaks(leaks);
    for (const s of planted) expect(report).not.toContain(s.value);
    expect(report).toContain('[SECRET]');
  });

  it('rule 20: a clean log passes, and values shorter than 6 characters are not looked for', () => {
    const log = '{"level":"info","msg":"request","requestId":"r-1","route":"health","status":200,"durationMs":12}';
    expect(findLeaks([{ name: 'l', text: log }], [secret('pin', 'ABC234'), secret('password', 'a long passphrase here')])).toEqual([]);
    // "200" and "info" are in every log: too short to tell a leak from chance.
    expect(findLeaks([{ name: 'l', text: log }], [secret('pin', '200'), secret('token', 'info')])).toEqual([]);
  });

  it('rule 20: a JSON-escaped or percent-encoded secret, and an email in another case, still count', () => {
    const password = 'pass "with" quotes/and\\slash';
    const email = 'Pat.Smith@Example.test';
    const logs = [
      { name: 'escaped', text: JSON.stringify({ msg: 'x', detail: password }) },
      { name: 'encoded', text: `GET /x?u=${encodeURIComponent('token/with+chars=')}` },
      { name: 'cased', text: '{"to":"pat.smith@example.test"}' },
    ];
    const leaks = findLeaks(logs, [secret('password', password), secret('token', 'token/with+chars='), secret('email', email)]);
    expect(leaks.map((l) => l.where)).toEqual(['escaped:1', 'encoded:1', 'cased:1']);
  });

  it('rule 20: collects secret fields at any depth, and the link token, reset PIN and recipient of an email', () => {
    const found = secretsIn({ username: 'pat', password: 'pw-one-two', record: { email: 'a@b.example', phone: '+15555550123', cases: ['C-1'] }, items: [{ pin: 'XY34ZZ' }] }, 's');
    expect(found.map((s) => [s.field, s.value])).toEqual([
      ['password', 'pw-one-two'],
      ['email', 'a@b.example'],
      ['phone', '+15555550123'],
      ['pin', 'XY34ZZ'],
    ]);
    const email = secretsInEmail(
      {
        destination: { to: ['pat@example.test'] },
        body: { text: 'Open https://p.example/portal/reset#token=abc_DEF-123456 and enter this PIN: K7MX4R', html: '<a href="https://p.example/portal/reset#token=abc_DEF-123456">' },
      },
      'an email',
    );
    expect(email.map((s) => [s.field, s.value])).toEqual(expect.arrayContaining([['email', 'pat@example.test'], ['token', 'abc_DEF-123456'], ['pin', 'K7MX4R']]));
    expect(secretsInUrl('/portal/register?token=tok-123456', 'u')).toEqual([{ field: 'token', value: 'tok-123456', source: 'u' }]);
  });

  it('rule 20: the handlers\' logger hands every line to the capture even with LOG_LEVEL=silent, and a leak through it is found', () => {
    const dir = tempDir();
    expect(process.env.LOG_LEVEL).toBe('silent');
    undo.push(captureHandlerLogs(dir));
    recordSecrets(dir, [secret('lobbyPassword', 'K7MXQ-4RT9W')]);
    // A field name the logger does not recognise as secret: only the run-wide check catches it.
    createLogger({ requestId: 'r-1', route: 'lobby-sign-in' }).info('typed', { typed: 'K7MXQ-4RT9W' });
    const leaks = findLeaks(readLogs(dir), readSecrets(dir));
    expect(leaks).toHaveLength(1);
    expect(leaks[0]).toMatchObject({ field: 'lobbyPassword', source: 'POST /x request' });
    expect(leaks[0]!.line).toContain('"requestId":"r-1"');
  });

  it('rule 20: two captures at once (integration and browser stacks in one process) both get every line', () => {
    const [a, b] = [tempDir(), tempDir()];
    undo.push(captureHandlerLogs(a), captureHandlerLogs(b));
    createLogger({ requestId: 'r-2' }).info('typed', { typed: 'planted-value-1' });
    undo.shift()!();
    createLogger({ requestId: 'r-3' }).info('typed', { typed: 'planted-value-2' });
    expect(findLeaks(readLogs(a), [secret('password', 'planted-value-1'), secret('password', 'planted-value-2')]).map((l) => l.line)).toEqual([
      expect.stringContaining('r-2'),
    ]);
    expect(findLeaks(readLogs(b), [secret('password', 'planted-value-1'), secret('password', 'planted-value-2')])).toHaveLength(2);
  });

  it('rule 20: console output of the process is captured and still printed', () => {
    const dir = tempDir();
    const printed: unknown[] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => printed.push(args);
    try {
      const undo = captureConsole(dir);
      console.error('handler failed', { detail: 'secret-value-123' });
      undo();
    } finally {
      console.error = original;
    }
    expect(printed).toHaveLength(1);
    expect(findLeaks(readLogs(dir), [secret('password', 'secret-value-123')])).toHaveLength(1);
  });
});
