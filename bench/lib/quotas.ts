/**
 * Cognito's default per-account request-rate quotas (requests per second, per category), and
 * the category of each operation the service calls. Categories as AWS documents them under
 * "Quotas in Amazon Cognito → API request rate quotas"; defaults as given in the issue, UserRead
 * from the same page. Check the console's Service Quotas for your account before relying on it.
 */
export const cognitoQuotas = {
  UserAuthentication: 120,
  UserCreation: 50,
  UserAccountRecovery: 30,
  UserUpdate: 25,
  UserRead: 120,
} as const;

export type QuotaCategory = keyof typeof cognitoQuotas | 'UserToken';

export const categoryOf: Record<string, QuotaCategory> = {
  InitiateAuth: 'UserAuthentication',
  AdminInitiateAuth: 'UserAuthentication',
  RespondToAuthChallenge: 'UserAuthentication',
  AdminRespondToAuthChallenge: 'UserAuthentication',
  AdminCreateUser: 'UserCreation',
  SignUp: 'UserCreation',
  ForgotPassword: 'UserAccountRecovery',
  ConfirmForgotPassword: 'UserAccountRecovery',
  AdminResetUserPassword: 'UserAccountRecovery',
  AdminSetUserPassword: 'UserUpdate',
  ChangePassword: 'UserUpdate',
  AdminUpdateUserAttributes: 'UserUpdate',
  AdminDisableUser: 'UserUpdate',
  AdminEnableUser: 'UserUpdate',
  AdminDeleteUser: 'UserUpdate',
  AdminUserGlobalSignOut: 'UserUpdate',
  AdminGetUser: 'UserRead',
  RevokeToken: 'UserToken',
};

export interface QuotaUse {
  /** Calls per flow in each category. */
  perCategory: Partial<Record<QuotaCategory, number>>;
  /** Flows per second one account sustains (the tightest category), Infinity if no Cognito call. */
  flowsPerSecond: number;
  /** The category that sets it. */
  limitedBy?: QuotaCategory;
}

export function quotaUse(cognitoOps: string[]): QuotaUse {
  const perCategory: Partial<Record<QuotaCategory, number>> = {};
  for (const op of cognitoOps) {
    const cat = categoryOf[op] ?? 'UserUpdate';
    perCategory[cat] = (perCategory[cat] ?? 0) + 1;
  }
  let flowsPerSecond = Infinity;
  let limitedBy: QuotaCategory | undefined;
  for (const [cat, count] of Object.entries(perCategory) as [QuotaCategory, number][]) {
    const quota = cat in cognitoQuotas ? cognitoQuotas[cat as keyof typeof cognitoQuotas] : Infinity;
    if (quota / count < flowsPerSecond) {
      flowsPerSecond = quota / count;
      limitedBy = cat;
    }
  }
  return { perCategory, flowsPerSecond, ...(limitedBy ? { limitedBy } : {}) };
}
