/**
 * Rule 28 for the handler builders (staff-handler.ts, patient-handler.ts, lobby-handler.ts; issue 20): each route's caller rule picks
 * its authenticator (rule 28: admin routes need the admin role, staff routes a staff role; patient
 * and lobby routes never take a staff token). Through real handler modules, so the test holds
 * whatever shape `defineHandler` takes; DynamoDB is the in-memory fake, tokens are real RS256.
 */
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { handler as accountGet } from '../../../lambdas/handlers/account/get.ts';
import { handler as auditList } from '../../../lambdas/handlers/audit/list.ts';
import { handler as lobbyCurrent } from '../../../lambdas/handlers/lobby/current.ts';
import { handler as getRecord } from '../../../lambdas/handlers/portal-record/get.ts';
import { defineHandler as defineLobbyHandler } from '../../../lambdas/http/lobby-handler.ts';
import { defineHandler as definePatientHandler } from '../../../lambdas/http/patient-handler.ts';
import { defineHandler as defineStaffHandler } from '../../../lambdas/http/staff-handler.ts';
import { accountRoutes } from '../../../lib/routes/account.ts';
import { lobbyRoutes } from '../../../lib/routes/lobby.ts';
import { settingsRoutes } from '../../../lib/routes/settings.ts';
import { apiEvent, call } from '../../support/events.ts';
import { memoryDynamo } from '../../support/memory-dynamo.ts';
import { adminToken, serveJwks, staffToken } from '../../support/tokens.ts';

beforeEach(() => {
  serveJwks();
  const db = memoryDynamo();
  vi.spyOn(DynamoDBDocumentClient.prototype, 'send').mockImplementation(((command: { input: unknown }) => db.send(command)) as never);
});
afterEach(() => vi.restoreAllMocks());

const record = (token?: string) =>
  call(getRecord, apiEvent({ resource: '/patients/{patientId}/portal', path: '/patients/P-404/portal', pathParameters: { patientId: 'P-404' }, ...(token ? { token } : {}) }));
const audit = (token?: string) =>
  call(auditList, apiEvent({ resource: '/patients/{patientId}/portal/audit', path: '/patients/P-404/portal/audit', pathParameters: { patientId: 'P-404' }, ...(token ? { token } : {}) }));

describe('rule 28: the route caller picks the check', () => {
  it('a staff route: a staff token reaches the handler (404 for a record that does not exist), none gets 401', async () => {
    expect((await record(staffToken())).status).toBe(404);
    expect((await record(adminToken())).status).toBe(404);
    const none = await record();
    expect([none.status, none.headers['www-authenticate']]).toEqual([401, 'Bearer']);
  });

  it('an admin route: an admin token reaches the handler, a staff token without the admin role gets 403', async () => {
    expect((await audit(adminToken())).status).not.toBe(403);
    expect((await audit(adminToken())).status).toBeLessThan(500);
    const staff = await audit(staffToken({ groups: ['staff'] }));
    expect([staff.status, staff.json.type]).toEqual([403, '/problems/forbidden']);
    expect((await audit()).status).toBe(401);
  });

  it('patient and lobby routes refuse a staff or admin token with 401', async () => {
    for (const token of [staffToken(), adminToken()]) {
      expect((await call(accountGet, apiEvent({ path: '/account', token }))).status).toBe(401);
      expect((await call(lobbyCurrent, apiEvent({ path: '/lobby-sessions/current', token }))).status).toBe(401);
    }
  });
});

// Built inside each test (not at import, as the handler modules above are), so that what a
// builder hands buildHandler is seen by the test that calls the handler.
describe('rule 28: each builder checks its own caller on every request', () => {
  const reached = async () => ({ status: 200, body: { reached: true } }) as never;

  it('staff-handler: a staff route runs for a staff token, an admin route refuses it (403); no token is 401', async () => {
    const staffRoute = defineStaffHandler(settingsRoutes, 'settings-get', reached);
    const adminRoute = defineStaffHandler(settingsRoutes, 'settings-put', reached);
    const staff = await call(staffRoute, apiEvent({ path: '/settings', token: staffToken({ groups: ['staff'] }) }));
    expect([staff.status, staff.json]).toEqual([200, { reached: true }]);
    const refused = await call(adminRoute, apiEvent({ method: 'PUT', path: '/settings', token: staffToken({ groups: ['staff'] }), body: {} }));
    expect([refused.status, refused.json.type]).toEqual([403, '/problems/forbidden']);
    for (const handler of [staffRoute, adminRoute]) {
      const none = await call(handler, apiEvent({ path: '/settings' }));
      expect([none.status, none.headers['www-authenticate']]).toEqual([401, 'Bearer']);
    }
  });

  it('patient-handler and lobby-handler: no token, or a staff token, is 401 and never reaches the handler', async () => {
    const patient = definePatientHandler(accountRoutes, 'account-get', reached);
    const lobby = defineLobbyHandler(lobbyRoutes, 'lobby-session-current', reached);
    for (const [handler, path] of [[patient, '/account'], [lobby, '/lobby-sessions/current']] as const) {
      for (const token of [undefined, staffToken(), adminToken()]) {
        const answer = await call(handler, apiEvent({ path, ...(token ? { token } : {}) }));
        expect([answer.status, answer.headers['www-authenticate']], `${path} ${token ? 'staff token' : 'no token'}`).toEqual([401, 'Bearer']);
      }
    }
  });
});
