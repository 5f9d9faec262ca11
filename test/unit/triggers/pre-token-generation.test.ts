import { describe, expect, it } from 'vitest';
import { generationClaim, generationOfLogin, handler, makeHandler } from '../../../lambdas/triggers/pre-token-generation.ts';

describe('pre-token-generation trigger', () => {
  it('rule 3: removes the scope that would let a token holder change the password at Cognito directly', async () => {
    const event = { version: '2', triggerSource: 'TokenGeneration_Authentication', request: {}, response: { claimsAndScopeOverrideDetails: null } };
    const out = await handler(event);
    expect(out.response).toEqual({
      claimsAndScopeOverrideDetails: { accessTokenGeneration: { scopesToSuppress: ['aws.cognito.signin.user.admin'] } },
    });
  });
});

describe('pre-token-generation trigger: the record generation claim (rule 17)', () => {
  const items = new Map<string, Record<string, unknown>>([
    ['ACCOUNT#acc-1|ACCOUNT', { accountId: 'acc-1', patientId: 'P-1' }],
    ['PATIENT#P-1|RECORD', { patientId: 'P-1', accountId: 'acc-1', linkGeneration: 6 }],
    ['ACCOUNT#acc-2|ACCOUNT', { accountId: 'acc-2', patientId: 'P-2' }],
    ['PATIENT#P-2|RECORD', { patientId: 'P-2', accountId: 'acc-2' }],
    // A link left over from a login the record no longer names.
    ['ACCOUNT#acc-old|ACCOUNT', { accountId: 'acc-old', patientId: 'P-1' }],
  ]);
  const reads: string[] = [];
  const trigger = makeHandler(async (key) => {
    reads.push(`${key.pk}|${key.sk}`);
    return items.get(`${key.pk}|${key.sk}`);
  });
  const event = (userName: string, triggerSource: string, clientMetadata?: Record<string, string>) => ({
    version: '2', triggerSource, userName, request: { userAttributes: {}, ...(clientMetadata ? { clientMetadata } : {}) }, response: { claimsAndScopeOverrideDetails: null },
  });
  const access = (out: { response?: Record<string, unknown> }) =>
    (out.response as { claimsAndScopeOverrideDetails: { accessTokenGeneration: { claimsToAddOrOverride?: Record<string, unknown>; scopesToSuppress: string[] } } })
      .claimsAndScopeOverrideDetails.accessTokenGeneration;

  it('rule 17: a password sign-in (and the new-password step) gets the record\'s generation, read from the table', async () => {
    for (const source of ['TokenGeneration_Authentication', 'TokenGeneration_NewPasswordChallenge']) {
      const out = access(await trigger(event('acc-1', source)));
      expect(out.claimsToAddOrOverride).toEqual({ [generationClaim]: 6 });
      expect(out.scopesToSuppress).toEqual(['aws.cognito.signin.user.admin']);
    }
    expect(access(await trigger(event('acc-2', 'TokenGeneration_Authentication'))).claimsToAddOrOverride).toEqual({ [generationClaim]: 0 });
  });

  it('rule 17: a refresh gets no generation, whatever ClientMetadata its caller sends', async () => {
    reads.length = 0;
    const out = access(await trigger(event('acc-1', 'TokenGeneration_RefreshTokens', { [generationClaim]: '6', generation: '6' })));
    expect(out.claimsToAddOrOverride).toBeUndefined();
    expect(out.scopesToSuppress).toEqual(['aws.cognito.signin.user.admin']);
    expect(reads).toEqual([]);
  });

  it('rule 17: ClientMetadata never sets the generation, and a login no record names (a staff user, an old login) gets none', async () => {
    expect(access(await trigger(event('acc-1', 'TokenGeneration_Authentication', { [generationClaim]: '99' }))).claimsToAddOrOverride).toEqual({ [generationClaim]: 6 });
    expect(access(await trigger(event('frontdesk', 'TokenGeneration_Authentication'))).claimsToAddOrOverride).toBeUndefined();
    expect(access(await trigger(event('acc-old', 'TokenGeneration_Authentication'))).claimsToAddOrOverride).toBeUndefined();
  });

  it('the generation is read from the record, not remembered: a bump shows in the next token', async () => {
    items.set('PATIENT#P-1|RECORD', { patientId: 'P-1', accountId: 'acc-1', linkGeneration: 7 });
    expect(await generationOfLogin(async (k) => items.get(`${k.pk}|${k.sk}`), 'acc-1')).toBe(7);
  });
});

describe('pre-token-generation trigger: a proxy login with no record of its own (issue 18)', () => {
  const read = (items: Record<string, Record<string, unknown>>) => async (k: { pk: string; sk: string }) => items[`${k.pk}|${k.sk}`];

  it('rule 17: gets the generation kept on its ACCOUNT# item (0 when none yet)', async () => {
    expect(await generationOfLogin(read({ 'ACCOUNT#px-1|ACCOUNT': { accountId: 'px-1', proxyOnly: true, username: 'pat', generation: 3 } }), 'px-1')).toBe(3);
    expect(await generationOfLogin(read({ 'ACCOUNT#px-2|ACCOUNT': { accountId: 'px-2', proxyOnly: true, username: 'pat' } }), 'px-2')).toBe(0);
  });

  it('an ACCOUNT# item that is not marked proxy-only, or names another login, gets none', async () => {
    expect(await generationOfLogin(read({ 'ACCOUNT#px-3|ACCOUNT': { accountId: 'px-3', generation: 3 } }), 'px-3')).toBeUndefined();
    expect(await generationOfLogin(read({ 'ACCOUNT#px-4|ACCOUNT': { accountId: 'someone-else', proxyOnly: true, generation: 3 } }), 'px-4')).toBeUndefined();
  });
});
