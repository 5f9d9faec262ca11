/**
 * Mutation-testing rules for lambdas/http/logger.ts (issue 20): where lines go (the writer the
 * local stack and the tests hand in, stdout otherwise, nothing when LOG_LEVEL=silent) and rule 20
 * (fields whose names suggest a secret or PHI are replaced, at every level).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLogger, printLine, setLogWriter } from '../../../lambdas/http/logger.ts';

afterEach(() => {
  setLogWriter();
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

describe('the writer', () => {
  it('a logger without a writer of its own writes through setLogWriter, and setLogWriter() puts stdout back', () => {
    const seen: string[] = [];
    setLogWriter((l) => seen.push(l));
    const log = createLogger({ requestId: 'r-1' });
    log.info('one');
    expect(seen).toHaveLength(1);
    expect(JSON.parse(seen[0]!)).toMatchObject({ level: 'info', msg: 'one', requestId: 'r-1' });
    setLogWriter();
    vi.stubEnv('LOG_LEVEL', 'info');
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    log.info('two');
    expect(seen).toHaveLength(1);
    expect(out).toHaveBeenCalledTimes(1);
    expect(String(out.mock.calls[0]![0])).toMatch(/^\{.*"msg":"two".*\}\n$/);
  });

  it('issue 16: under LOG_LEVEL=silent a line bound for stdout is not even built; one bound for a writer of its own still is', () => {
    vi.stubEnv('LOG_LEVEL', 'silent');
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    let built = 0;
    const base = { get requestId() { built += 1; return 'r-1'; } };
    createLogger(base).info('quiet');
    createLogger(base, printLine).warn('quiet');
    expect(built).toBe(0);
    expect(out).not.toHaveBeenCalled();
    const seen: string[] = [];
    createLogger(base, (l) => seen.push(l)).error('kept');
    setLogWriter((l) => seen.push(l));
    createLogger(base).info('kept too');
    expect(built).toBe(2);
    expect(seen.map((l) => (JSON.parse(l) as { msg: string }).msg)).toEqual(['kept', 'kept too']);
  });

  it('printLine writes the line and a newline to stdout, and nothing when LOG_LEVEL is silent', () => {
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    vi.stubEnv('LOG_LEVEL', 'silent');
    printLine('quiet');
    expect(out).not.toHaveBeenCalled();
    vi.stubEnv('LOG_LEVEL', 'debug');
    printLine('loud');
    expect(out.mock.calls).toEqual([['loud\n']]);
  });
});

describe('the line', () => {
  it('each level names itself, carries an ISO time, the message and the base fields; fields are optional', () => {
    const lines: string[] = [];
    const log = createLogger({ requestId: 'r-2', route: 'health' }, (l) => lines.push(l));
    log.info('i');
    log.warn('w', { count: 2 });
    log.error('e', { status: 500 });
    const parsed = lines.map((l) => JSON.parse(l));
    expect(parsed.map((p) => [p.level, p.msg])).toEqual([
      ['info', 'i'],
      ['warn', 'w'],
      ['error', 'e'],
    ]);
    for (const p of parsed) {
      expect(p.requestId).toBe('r-2');
      expect(p.route).toBe('health');
      expect(new Date(p.time).toISOString()).toBe(p.time);
    }
    expect(parsed[1].count).toBe(2);
    expect(parsed[2].status).toBe(500);
  });

  it('rule 20: a field named like a secret or PHI is written as [dropped] at every level, others as given', () => {
    const lines: string[] = [];
    const log = createLogger({ requestId: 'r' }, (l) => lines.push(l));
    for (const level of ['info', 'warn', 'error'] as const) log[level]('x', { refreshToken: 'eyJabc', Code: '123456', route: 'r', count: 0, flag: false });
    for (const line of lines) {
      expect(JSON.parse(line)).toMatchObject({ refreshToken: '[dropped]', Code: '[dropped]', route: 'r', count: 0, flag: false });
      expect(line).not.toContain('eyJabc');
      expect(line).not.toContain('123456');
    }
  });
});
