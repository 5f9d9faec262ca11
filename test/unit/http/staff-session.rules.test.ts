/**
 * Mutation-testing rule for lambdas/http/staff-session.ts (issue 20): rule 30's read of the
 * staff record behind a token, the real module (the handler setup stands in for it elsewhere):
 * one consistent GetItem on STAFF#<sub>, the record as stored without its keys, undefined when absent.
 */
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type * as StaffSession from '../../../lambdas/http/staff-session.ts';
import { enabledStaffRecord } from '../../support/staff-records.ts';

const ddb = mockClient(DynamoDBDocumentClient);
afterEach(() => ddb.reset());

describe('rule 30: the staff record a token is checked against', () => {
  it('is read by the token sub, consistently, and answered without its keys; a login without a record gets undefined', async () => {
    const { staffRecordOf } = await vi.importActual<typeof StaffSession>('../../../lambdas/http/staff-session.ts');
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
