/**
 * The two Cognito user pools. No user is created here (security rule 22): staff logins are made
 * by an admin per person, patient logins by the registration flows.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import {
  AccountRecovery,
  CfnUserPoolGroup,
  ClientAttributes,
  FeaturePlan,
  Mfa,
  StandardThreatProtectionMode,
  UserPool,
  UserPoolClient,
  type PasswordPolicy,
  type UserPoolClientOptions,
} from 'aws-cdk-lib/aws-cognito';
import { Construct } from 'constructs';

/** Security rules 1 and 2: length, not composition (NIST SP 800-63B-4). */
const passwordPolicy = (tempPasswordDays: number): PasswordPolicy => ({
  minLength: 15,
  requireLowercase: false,
  requireUppercase: false,
  requireDigits: false,
  requireSymbols: false,
  tempPasswordValidity: Duration.days(tempPasswordDays),
});

/** Security rule 16. */
export const tokenValidity = {
  patients: { access: Duration.minutes(60), id: Duration.minutes(60), refresh: Duration.hours(24) },
  staff: { access: Duration.minutes(60), id: Duration.minutes(60), refresh: Duration.hours(12) },
} as const;

export const staffGroups = ['admin', 'staff'] as const;

interface PoolOptions {
  readonly mfa: Mfa;
  readonly tempPasswordDays: number;
  readonly tokens: (typeof tokenValidity)[keyof typeof tokenValidity];
  readonly client: Pick<UserPoolClientOptions, 'generateSecret' | 'authFlows' | 'enablePropagateAdditionalUserContextData'>;
}

export class PortalIdentity extends Construct {
  readonly patientPool: UserPool;
  readonly patientClient: UserPoolClient;
  readonly staffPool: UserPool;
  readonly staffClient: UserPoolClient;

  constructor(scope: Construct, id: string) {
    super(scope, id);

    // Patients: single-factor (MFA off, acknowledged as AwsSolutions-COG2). Cognito's temporary
    // password validity is in days; the service enforces settings.temporaryPasswordHours (72 by
    // default) itself, so 3 days here must stay >= that setting.
    [this.patientPool, this.patientClient] = this.pool('Patients', {
      mfa: Mfa.OFF,
      tempPasswordDays: 3,
      tokens: tokenValidity.patients,
      // Rule 34: only the server-side flow, which needs IAM credentials (AdminInitiateAuth, grant
      // patientPool:signIn) that only our sign-in functions hold: no USER_PASSWORD_AUTH and no
      // SRP, so nobody can guess passwords at Cognito around our throttles. Refresh stays allowed.
      client: { generateSecret: false, authFlows: { adminUserPassword: true } },
    });

    // Staff: TOTP required (rule 16); no SMS (SIM swap) and no email codes.
    [this.staffPool, this.staffClient] = this.pool('Staff', {
      mfa: Mfa.REQUIRED,
      tempPasswordDays: 7,
      tokens: tokenValidity.staff,
      // Rule 34: USER_PASSWORD_AUTH needs the client secret (SECRET_HASH), which is in neither the
      // template, an output nor any function's environment: the sign-in functions read it from
      // Cognito at cold start (grant staffPool:signIn). Propagated user context data lets the
      // sign-in pass the caller's IP address to threat protection (issue 13.13); Cognito allows
      // it only on a client with a secret.
      client: { generateSecret: true, authFlows: { userPassword: true }, enablePropagateAdditionalUserContextData: true },
    });
    staffGroups.forEach((group, precedence) => {
      new CfnUserPoolGroup(this, `StaffGroup-${group}`, {
        userPoolId: this.staffPool.userPoolId,
        groupName: group,
        precedence,
        description: group === 'admin' ? 'Practice administrators (settings, permissions, audit)' : 'Practice staff',
      });
    });
  }

  private pool(name: string, options: PoolOptions): [UserPool, UserPoolClient] {
    const pool = new UserPool(this, `${name}Pool`, {
      selfSignUpEnabled: false,
      // Usernames are opaque account ids; no email or phone sign-in aliases.
      signInAliases: { username: true },
      signInCaseSensitive: false,
      passwordPolicy: passwordPolicy(options.tempPasswordDays),
      mfa: options.mfa,
      mfaSecondFactor: { otp: true, sms: false, email: false },
      // Recovery runs through the service's own reset flow (link + PIN), never Cognito's.
      accountRecovery: AccountRecovery.NONE,
      // Threat protection (compromised-credential and risk detection) needs the Plus plan.
      featurePlan: FeaturePlan.PLUS,
      standardThreatProtectionMode: StandardThreatProtectionMode.FULL_FUNCTION,
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const client = pool.addClient(`${name}Client`, {
      ...options.client,
      disableOAuth: true,
      preventUserExistenceErrors: true,
      enableTokenRevocation: true,
      accessTokenValidity: options.tokens.access,
      idTokenValidity: options.tokens.id,
      refreshTokenValidity: options.tokens.refresh,
      readAttributes: new ClientAttributes().withStandardAttributes({ email: true, emailVerified: true }),
      // An empty list means "every attribute is writable" to Cognito, so one harmless attribute
      // is named: a user's own access token must not change their email or phone.
      writeAttributes: new ClientAttributes().withStandardAttributes({ locale: true }),
    });
    return [pool, client];
  }
}
