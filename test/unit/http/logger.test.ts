import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../lambdas/http/logger.ts';

describe('logger', () => {
  it('writes one JSON line per event carrying the request id', () => {
    const lines: string[] = [];
    createLogger({ requestId: 'req-1', route: 'health' }, (l) => lines.push(l)).info('request', { status: 200 });
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 'info', msg: 'request', requestId: 'req-1', route: 'health', status: 200 });
  });

  it('rule 20: drops fields whose names suggest a secret or PHI', () => {
    const lines: string[] = [];
    const log = createLogger({ requestId: 'r' }, (l) => lines.push(l));
    log.info('x', { password: 'hunter2hunter2', pin: 'ABC234', accessToken: 'eyJ', email: 'a@b.c', phone: '+1555', sessionId: 's', ok: true });
    const line = lines[0]!;
    for (const secret of ['hunter2hunter2', 'ABC234', 'eyJ', 'a@b.c', '+1555']) expect(line).not.toContain(secret);
    expect(JSON.parse(line).ok).toBe(true);
  });
});
