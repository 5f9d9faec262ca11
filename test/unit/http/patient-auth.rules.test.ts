/**
 * Mutation-testing rules for lambdas/http/patient-auth.ts (issue 20): a patient access token is
 * accepted only while its login still belongs to the record, access is on, no password change is
 * pending and its portal_generation claim is exactly the record's generation now (rule 17); a
 * proxy-only login's generation is on its ACCOUNT# item (rules 17, 32). Real RS256 tokens
 * (test/support/tokens.ts); the record and login items are in-memory stand-ins of the tables.
 */
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { StoredRecord } from '../../../lambdas/domain/portal-record.ts';
import type { LoginItem } from '../../../lambdas/domain/proxies.ts';
import { authenticatePatient } from '../../../lambdas/http/patient-auth.ts';
import { HttpProblem } from '../../../lambdas/http/problems.ts';
import { otherKey, serveJwks, staffToken, type TokenOptions } from '../../support/tokens.ts';

const records = new Map<string, StoredRecord>();
const logins = new Map<string, LoginItem>();
const reads: string[] = [];

vi.mock('../../../lambdas/adapters/deps.ts', async (original) => ({
  ...(await original<typeof import('../../../lambdas/adapters/deps.ts')>()),
  recordStore: () => ({
    async getRecord(id: string) {
      reads.push(`record:${id}`);
      return records.get(id);
    },
  }),
}));
vi.mock('../../../lambdas/adapters/dynamo-proxies.ts', () => ({
  dynamoProxies: () => ({
    async login(accountId: string) {
      reads.push(`login:${accountId}`);
      return logins.get(accountId);
    },
  }),
}));

const patientToken = (opts: TokenOptions = {}) =>
  `Bearer ${staffToken({ pool: process.env.PATIENT_POOL_ID, clientId: process.env.PATIENT_CLIENT_ID, username: 'acct-1', groups: [], ...opts })}`;
const withGeneration = (generation: unknown, opts: TokenOptions = {}) => patientToken({ ...opts, claims: { portal_generation: generation, ...opts.claims } });

function record(change: Partial<StoredRecord> = {}): StoredRecord {
  return { patientId: 'pat-1', accountId: 'acct-1', accessEnabled: true, linkGeneration: 3, ...change } as StoredRecord;
}

async function refusal(p: Promise<unknown>): Promise<HttpProblem> {
  const err = await p.then(
    () => expect.unreachable('should be refused'),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(HttpProblem);
  expect((err as HttpProblem).status).toBe(401);
  return err as HttpProblem;
}

beforeEach(() => {
  serveJwks();
  records.clear();
  logins.clear();
  reads.length = 0;
  logins.set('acct-1', { accountId: 'acct-1', patientId: 'pat-1' });
  records.set('pat-1', record());
});

describe('rule 17: a patient token is accepted with its record, at the record generation', () => {
  it('the token of the login of an enabled record, stamped with its generation, names the account and the record', async () => {
    expect(await authenticatePatient(withGeneration(3))).toEqual({ kind: 'patient', accountId: 'acct-1', patientId: 'pat-1' });
    expect(reads).toEqual(['login:acct-1', 'record:pat-1']);
  });

  it('an older or newer generation, none, or one that is not a safe integer: refused', async () => {
    for (const stamp of [2, 4, undefined, '3', 3.5, 2 ** 53]) await refusal(authenticatePatient(withGeneration(stamp)));
  });

  it('a record without a generation yet takes 0, and only 0', async () => {
    records.set('pat-1', record({ linkGeneration: undefined }));
    expect((await authenticatePatient(withGeneration(0))).patientId).toBe('pat-1');
    await refusal(authenticatePatient(withGeneration(1)));
  });

  it('access off, a password change pending, or a record now linked to another login: refused', async () => {
    for (const change of [{ accessEnabled: false }, { login: { mustChangePassword: true } }, { accountId: 'acct-2' }] as Partial<StoredRecord>[]) {
      records.set('pat-1', record(change));
      const err = await refusal(authenticatePatient(withGeneration(3)));
      expect(err.detail).toMatch(/Sign in again/);
    }
    records.set('pat-1', record({ login: { mustChangePassword: false } } as Partial<StoredRecord>));
    expect((await authenticatePatient(withGeneration(3))).patientId).toBe('pat-1');
  });

  it('a login with no item, or an item naming a record that is gone: refused', async () => {
    records.delete('pat-1');
    await refusal(authenticatePatient(withGeneration(3)));
    logins.delete('acct-1');
    reads.length = 0;
    await refusal(authenticatePatient(withGeneration(3)));
    expect(reads).toEqual(['login:acct-1']);
  });

  it('an item whose record id is empty reads no record and is refused', async () => {
    logins.set('acct-1', { accountId: 'acct-1', patientId: '' });
    records.set('', record({ patientId: '' }));
    await refusal(authenticatePatient(withGeneration(3)));
    expect(reads).toEqual(['login:acct-1']);
  });
});

describe('the token itself', () => {
  it('a staff token, an ID token, another client, another key or an expired one: 401 before any read', async () => {
    for (const token of [
      `Bearer ${staffToken({ username: 'acct-1', claims: { portal_generation: 3 } })}`,
      withGeneration(3, { tokenUse: 'id' }),
      withGeneration(3, { clientId: 'staffclient' }),
      withGeneration(3, { signWith: otherKey }),
      withGeneration(3, { expiresInSeconds: -60 }),
    ]) {
      const err = await refusal(authenticatePatient(token));
      expect(err.detail).toMatch(/Sign in again/);
    }
    expect(reads).toEqual([]);
  });

  it('a token without a username (or not a string, or empty) is refused before any read', async () => {
    for (const username of [42, '']) await refusal(authenticatePatient(withGeneration(3, { claims: { username } })));
    expect(reads).toEqual([]);
  });

  it('no bearer header at all: 401', async () => {
    await refusal(authenticatePatient(undefined));
  });
});

describe('rules 17 and 32: a proxy-only login answers to the generation on its own item', () => {
  beforeEach(() => {
    logins.set('acct-1', { accountId: 'acct-1', username: 'helper@example.test', generation: 5 });
  });

  it('its token at the item generation is a principal that names no record, and no record is read', async () => {
    expect(await authenticatePatient(withGeneration(5))).toEqual({ kind: 'patient', accountId: 'acct-1', patientId: '' });
    expect(reads).toEqual(['login:acct-1']);
  });

  it('any other stamp is refused: older, newer, missing, a string, a fraction, beyond safe integers', async () => {
    for (const stamp of [4, 6, undefined, '5', 5.5, 2 ** 53]) await refusal(authenticatePatient(withGeneration(stamp)));
  });

  it('an item without a generation takes 0, and only 0', async () => {
    logins.set('acct-1', { accountId: 'acct-1', username: 'helper@example.test' });
    expect((await authenticatePatient(withGeneration(0))).patientId).toBe('');
    await refusal(authenticatePatient(withGeneration(1)));
  });

  it('a huge unsafe stamp equal to an unsafe item generation is still refused', async () => {
    logins.set('acct-1', { accountId: 'acct-1', username: 'helper@example.test', generation: 2 ** 53 });
    await refusal(authenticatePatient(withGeneration(2 ** 53)));
  });
});
