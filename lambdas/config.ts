/**
 * The functions' configuration: one zod schema for process.env, parsed once per cold start.
 * A missing or malformed variable fails the first request loudly (and the local stack at start),
 * never a request halfway through its work.
 */
import * as z from 'zod/mini';

const Env = z.object({
  AWS_REGION: z._default(z.string().check(z.minLength(1)), 'us-east-1'),
  RECORDS_TABLE: z.string().check(z.minLength(1)),
  AUDIT_TABLE: z.string().check(z.minLength(1)),
  STAFF_POOL_ID: z.string().check(z.minLength(1)),
  STAFF_CLIENT_ID: z.string().check(z.minLength(1)),
  PATIENT_POOL_ID: z.string().check(z.minLength(1)),
  PATIENT_CLIENT_ID: z.string().check(z.minLength(1)),
  /** Base of the token issuer: https://cognito-idp.<region>.amazonaws.com in AWS, the emulator's URL locally. */
  COGNITO_ISSUER_BASE: z.optional(z.url()),
  PORTAL_URL: z.url(),
  PRACTICE_NAME: z._default(z.string().check(z.minLength(1)), 'Our practice'),
  SENDER_EMAIL: z.email(),
  SES_CONFIGURATION_SET: z.optional(z.string()),
  /** Invitation PINs are sealed with this KMS key in AWS, or with the key file at PIN_KEY_FILE locally (adapters/pin-vault.ts). */
  PIN_KEY_ID: z.optional(z.string().check(z.minLength(1))),
  PIN_KEY_FILE: z.optional(z.string().check(z.minLength(1))),
  /** Lobby passwords (issue 16): the KMS HMAC key their hash key is derived from (adapters/lobby-key.ts); locally the PIN key file serves. */
  LOBBY_KEY_ID: z.optional(z.string().check(z.minLength(1))),
  /** Phone codes (issue 17): the SMS origination identity (AWS End User Messaging SMS) and the HMAC key of the codes; locally the SMS outbox is SMS_ENDPOINT. */
  SMS_ORIGINATION_IDENTITY: z.optional(z.string().check(z.minLength(1))),
  PHONE_CODE_KEY_ID: z.optional(z.string().check(z.minLength(1))),
  SMS_ENDPOINT: z.optional(z.url()),
  /** Endpoint overrides, set only by the local stack. */
  DYNAMODB_ENDPOINT: z.optional(z.url()),
  COGNITO_ENDPOINT: z.optional(z.url()),
  SES_ENDPOINT: z.optional(z.url()),
});
export type Config = z.infer<typeof Env> & { COGNITO_ISSUER_BASE: string };

let cached: Config | undefined;

export function config(): Config {
  if (!cached) {
    const parsed = Env.safeParse(process.env);
    if (!parsed.success) {
      const names = parsed.error.issues.map((i) => i.path.join('.')).join(', ');
      throw new Error(`configuration: missing or invalid environment variables: ${names}`);
    }
    const env = parsed.data;
    cached = {
      ...env,
      COGNITO_ISSUER_BASE: env.COGNITO_ISSUER_BASE ?? `https://cognito-idp.${env.AWS_REGION}.amazonaws.com`,
    };
  }
  return cached;
}

/** For tests that change the environment between cases. */
export function resetConfigForTests(): void {
  cached = undefined;
}
