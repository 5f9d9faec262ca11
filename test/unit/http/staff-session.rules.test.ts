/**
 * Mutation-testing rule for lambdas/http/staff-session.ts (issue 20): rule 30's read of the
 * staff record behind a token, the real module (the handler setup stands in for it elsewhere):
 * one consistent GetItem on STAFF#<sub>, the record as stored without its keys, undefined when absent.
 * Imported as a plain import after `vi.unmock` (not through vi.importActual), so that Stryker's
 * per-test coverage sees this test reach the module and `by-file` can score it.
 */
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { staffRecordOf } from '../../../lambdas/http/staff-session.ts';
import { enabledStaffRecord } from '../../support/staff-records.ts';

vi.unmock('../../../lambdas/http/staff-session.ts');

const ddb = mockClient(DynamoDBDocumentClient);
afterEach(() => ddb.reset());

describe('rule 30: the staff record a token is checked against', () => {
  it('is read by the token sub, consistently, and answered without its keys; a login without a record gets undefined', async () => {
    const record = enabledStaffRecord('sub-a');
    ddb.on(GetCommand, { Key: { pk: 'STAFF#sub-a', sk: 'STAFF' } }).resolves({ Item: { pk: 'STAFF#sub-a', sk: 'STAFF', ...record } });
    ddb.on(GetCommand, { Key: { pk: 'STAFF#sub-b', sk: 'STAFF' } }).resolves({});
    expect(await staffRecordOf('sub-a')).toEqual(record);
    expect(await staffRecordOf('sub-b')).toBeUndefined();
    const reads = ddb.commandCalls(GetCommand).map((c) => c.args[0].input);
    expect(reads).toHaveLength(2);
    expect(reads.every((r) => r.ConsistentRead === true && r.TableName === process.env.RECORDS_TABLE)).toBe(true);
  });
});
