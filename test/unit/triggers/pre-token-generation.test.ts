import { describe, expect, it } from 'vitest';
import { handler } from '../../../lambdas/triggers/pre-token-generation.ts';

describe('pre-token-generation trigger', () => {
  it('rule 3: removes the scope that would let a token holder change the password at Cognito directly', async () => {
    const event = { version: '2', triggerSource: 'TokenGeneration_Authentication', request: {}, response: { claimsAndScopeOverrideDetails: null } };
    const out = await handler(event);
    expect(out.response).toEqual({
      claimsAndScopeOverrideDetails: { accessTokenGeneration: { scopesToSuppress: ['aws.cognito.signin.user.admin'] } },
    });
  });
});
