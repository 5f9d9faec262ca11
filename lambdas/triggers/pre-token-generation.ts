/**
 * Cognito pre-token-generation trigger (V2) on both pools. Access tokens issued for
 * USER_PASSWORD_AUTH carry the scope `aws.cognito.signin.user.admin`, which lets their holder call
 * Cognito directly — ChangePassword (skipping our password rules, security rule 3), DeleteUser
 * (a record left pointing at no login), UpdateUserAttributes. Every credential change must go
 * through our routes, so that scope is removed from every access token.
 */
export const suppressedScopes = ['aws.cognito.signin.user.admin'] as const;

interface PreTokenGenerationV2Event {
  version?: string;
  triggerSource?: string;
  response?: Record<string, unknown>;
}

export const handler = async <E extends PreTokenGenerationV2Event>(event: E): Promise<E> => {
  event.response = {
    claimsAndScopeOverrideDetails: {
      accessTokenGeneration: { scopesToSuppress: [...suppressedScopes] },
    },
  };
  return event;
};
