/**
 * The self-registration handlers with every AWS client mocked (aws-sdk-client-mock): DynamoDB
 * answers from the in-memory DynamoDB (test/support/memory-dynamo.ts), SES is scripted per test.
 * The flows themselves are in test/unit/domain/self-registration.test.ts and
 * test/integration/self-registration.test.ts.
 */
import { SendEmailCommand, SESClient } from '@aws-sdk/client-ses';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { handler as request } from '../../lambdas/handlers/self-registration/request.ts';
import { handler as verify } from '../../lambdas/handlers/self-registration/verify.ts';
import { setLogWriter } from '../../lambdas/http/logger.ts';
import { apiEvent, call } from '../support/events.ts';
import { memoryDynamo, type Item, type MemoryDynamo } from '../support/memory-dynamo.ts';

const db = mockClient(DynamoDBDocumentClient);
const ses = mockClient(SESClient);
let mem: MemoryDynamo;
const records = () => mem.table('records-test');
const putSettings = (settings: Item) => records().set('SETTINGS|PRACTICE', { pk: 'SETTINGS', sk: 'PRACTICE', settings, version: 1 });

beforeEach(() => {
  mem = memoryDynamo();
  for (const Command of [GetCommand, PutCommand, DeleteCommand, UpdateCommand, QueryCommand, TransactWriteCommand]) {
    db.on(Command as never).callsFake(((input: unknown) => mem.send(new (Command as new (i: unknown) => { input: unknown })(input))) as never);
  }
  ses.on(SendEmailCommand).resolves({ MessageId: 'm-1' });
  // The 600 ms floor of rule 13 is real time: not waited out here.
  vi.useFakeTimers({ toFake: ['setTimeout'] });
});
afterEach(() => {
  vi.useRealTimers();
  db.reset();
  ses.reset();
});

const form = { firstName: 'Ada', lastName: 'Lovelace', dateOfBirth: '1980-04-30', email: 'ada@example.test' };
const ask = async (body: unknown) => {
  const pending = call(request, apiEvent({ method: 'POST', resource: '/self-registrations', body }));
  await vi.runAllTimersAsync();
  return pending;
};

describe('POST /self-registrations', () => {
  it('the setting off: exactly the unknown-route 404 (no detail), nothing written, nothing sent', async () => {
    putSettings({ selfRegistration: false });
    const res = await ask(form);
    expect(res.status).toBe(404);
    expect(res.json).toEqual({ type: '/problems/not-found', title: 'Not Found', status: 404 });
    expect(db.commandCalls(TransactWriteCommand)).toHaveLength(0);
    expect(ses.commandCalls(SendEmailCommand)).toHaveLength(0);
  });

  it('on: 202, the link from PORTAL_URL with the token after #; verify 200 even when the practice notice cannot be sent', async () => {
    putSettings({ selfRegistration: true, notifyEmail: 'inbox@practice.test' });
    const lines: string[] = [];
    setLogWriter((line) => void lines.push(line));
    try {
      const res = await ask(form);
      expect(res.status).toBe(202);
      const text = ses.commandCalls(SendEmailCommand)[0]!.args[0].input.Message!.Body!.Text!.Data!;
      const token = /\/portal\/self-register#token=([A-Za-z0-9_-]+)/.exec(text)![1]!;
      ses.on(SendEmailCommand).rejects(Object.assign(new Error('Email address is not verified'), { name: 'MessageRejected' }));
      const done = await call(verify, apiEvent({ method: 'POST', resource: '/self-registrations/verify', body: { token } }));
      expect(done.status).toBe(200);
      expect(done.json).toEqual({ status: 'Pending' });
      const log = lines.join('\n');
      expect(log).toContain('practice notice not sent');
      for (const phi of ['Ada', 'Lovelace', '1980-04-30', 'ada@example.test', 'inbox@practice.test', token]) expect(log).not.toContain(phi);
    } finally {
      setLogWriter(undefined);
    }
  });
});
