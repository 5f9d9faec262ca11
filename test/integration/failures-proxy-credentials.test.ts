/**
 * Security rule 24 for a proxy-only login's credential change (PUT /account/credentials, issue 18):
 * each backend call failing in turn (support/fail-nth.ts). Half state here means a password
 * changed at Cognito while the login's ACCOUNT# item still accepts the tokens from before, once
 * the flow has answered success, or a retry that cannot finish it.
 */
import { beforeAll, describe, expect } from 'vitest';
import { defineFlowTests, event, type Flow, freshAddress, handlerOf, invoke, item, login, useInProcessHandlers } from './support/failure-flows.ts';
import { enrolled, newUsername, signIn, staffTokens, uniqueId } from './support/patients.ts';
import { api, claims, mailbox } from './support/stack.ts';

useInProcessHandlers();

const chosen = 'walnut ferry glacier pigeon';
const changed = 'copper lantern meadow otter';

/** A child's record and a parent who registered a login with the proxy link: no record of their own. */
async function proxyOnly() {
  const { staff } = await staffTokens();
  const child = await enrolled(staff, 'F24P');
  const email = `${uniqueId('proxy').toLowerCase()}@example.test`;
  const inv = await api(`/patients/${child.patientId}/portal/proxies`, { method: 'POST', token: staff, body: { name: 'Pat Parent', email, relationship: 'parent', scope: 'full' } });
  expect(inv.status).toBe(201);
  const token = /\/portal\/register#token=(px\.[A-Za-z0-9_-]+)/.exec((await mailbox(email)).at(-1)?.body.text ?? '')?.[1];
  const username = newUsername();
  const reg = await api('/registrations', { method: 'POST', body: { token, pin: inv.json.pin, username, password: chosen } });
  expect(reg.status).toBe(201);
  const session = await signIn(username, chosen);
  expect(session.status).toBe(200);
  return { username, accountId: reg.json.accountId as string, accessToken: session.json.accessToken as string, sourceIp: freshAddress() };
}

/** Whether the login's generation has moved on from the one `accessToken` was minted under (rule 17). */
async function cutOff(s: { accountId: string; accessToken: string }): Promise<boolean> {
  const generation = ((await item(`ACCOUNT#${s.accountId}`, 'ACCOUNT'))?.generation as number | undefined) ?? 0;
  return claims(s.accessToken).portal_generation !== generation;
}

describe('proxy-only credential change: PUT /account/credentials', () => {
  type S = Awaited<ReturnType<typeof proxyOnly>>;
  let credentials: Awaited<ReturnType<typeof handlerOf>>;
  beforeAll(async () => {
    credentials = await handlerOf(() => import('../../lambdas/handlers/account/credentials.ts'));
  });

  const flow: Flow<S> = {
    name: 'proxy-only credential change',
    route: 'account-credentials',
    calls: [
      'DynamoDB GetItem', // token check: the login's ACCOUNT# item (its generation)
      'DynamoDB GetItem', // the login's ACCOUNT# item
      'DynamoDB GetItem', // throttle: account
      'DynamoDB GetItem', // throttle: address
      'DynamoDB UpdateItem', // throttle: this attempt reserved
      'Cognito AdminInitiateAuth', // the current password
      'DynamoDB DeleteItem', // throttle: reservation released
      'Cognito AdminSetUserPassword',
      'Cognito AdminUserGlobalSignOut',
      'DynamoDB GetItem', // the ACCOUNT# item again
      'DynamoDB TransactWriteItems', // generation bumped, username, audit
      'Cognito AdminInitiateAuth', // fresh tokens, minted after the bump (rule 17)
    ],
    ok: 200,
    setup: proxyOnly,
    send: (s) =>
      invoke(
        credentials,
        event({ method: 'PUT', resource: '/account/credentials', path: '/account/credentials', token: s.accessToken, sourceIp: s.sourceIp, body: { currentPassword: chosen, newPassword: changed } }),
      ),
    async noHalfState(s, answer) {
      if (answer.status === 200) expect(await cutOff(s)).toBe(true);
      expect(await login(s.accountId)).toEqual({ exists: true, enabled: true });
    },
    // The commit was done and its answer lost: the old token is refused now; the new password works.
    alreadyDone: [{ status: 401, type: /unauthorized$|invalid-token$/ }],
    failedCallLimits: {
      12: {
        consequence: 'the change is done, the old token is refused, the new password signs in',
        async check(s) {
          expect(await cutOff(s)).toBe(true);
          expect((await api('/account', { token: s.accessToken })).status).toBe(401);
          const fresh = await signIn(s.username, changed);
          expect(fresh.status).toBe(200);
          expect((await api('/account', { token: fresh.json.accessToken })).status).toBe(200);
        },
      },
    },
    async outcome(s) {
      const fresh = await signIn(s.username, changed);
      return {
        newPassword: fresh.status,
        oldPassword: (await signIn(s.username, chosen)).status,
        sessionsBeforeCutOff: await cutOff(s),
        freshToken: (await api('/account', { token: fresh.json.accessToken })).status,
      };
    },
  };
  defineFlowTests<S>(flow);
});
