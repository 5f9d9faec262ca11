/** Port choice and the "is it free" check that runs before anything starts. */
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { assertPortsFree, freePorts, HOST, resolvePorts } from '../../../lib/local/ports.ts';

describe('resolvePorts', () => {
  it('defaults to 3000, 8005, 8000, 9229', () => {
    expect(resolvePorts({}, {})).toEqual({ api: 3000, mailbox: 8005, dynamodb: 8000, cognito: 9229 });
  });

  it('takes PORT, MAILBOX_PORT, DYNAMODB_PORT, COGNITO_PORT; explicit options win', () => {
    const env = { PORT: '4000', MAILBOX_PORT: '4005', DYNAMODB_PORT: '4001', COGNITO_PORT: '4002' };
    expect(resolvePorts({}, env)).toEqual({ api: 4000, mailbox: 4005, dynamodb: 4001, cognito: 4002 });
    expect(resolvePorts({ api: 5000 }, env).api).toBe(5000);
  });

  it('refuses a value that is not a port', () => {
    expect(() => resolvePorts({}, { DYNAMODB_PORT: 'eight' })).toThrow(/DYNAMODB_PORT=eight/);
  });
});

describe('assertPortsFree', () => {
  it('names a busy port and the variable that moves it', async () => {
    const ports = await freePorts();
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(ports.cognito, HOST, resolve));
    try {
      await expect(assertPortsFree(ports)).rejects.toThrow(`port ${ports.cognito} (cognito-local) is already in use`);
      await expect(assertPortsFree(ports)).rejects.toThrow(/COGNITO_PORT=/);
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
    await expect(assertPortsFree(ports)).resolves.toBeUndefined();
  });

  it('refuses the same port twice', async () => {
    await expect(assertPortsFree({ api: 4100, mailbox: 4100, dynamodb: 4101, cognito: 4102 })).rejects.toThrow(/both 4100/);
  });
});
