/**
 * The functions' configuration: one zod schema for process.env, parsed once per cold start.
 * A missing or malformed variable fails the first request loudly (and the local stack at start),
 * never a request halfway through its work.
 */
import * as z from 'zod/mini';

// Shared instances: a zod schema is immutable, so every variable of one kind can use the same one;
// each schema built costs cold-start time (issue 16), and this one is built by every function.
const Text = z.string().check(z.minLength(1));
const OptionalText = z.optional(Text);
const OptionalUrl = z.optional(z.url());

const Env = z.object({
  AWS_REGION: z._default(Text, 'us-east-1'),
  RECORDS_TABLE: Text,
  AUDIT_TABLE: Text,
  STAFF_POOL_ID: Text,
  STAFF_CLIENT_ID: Text,
  PATIENT_POOL_ID: Text,
  PATIENT_CLIENT_ID: Text,
  /** Base of the token issuer: https://cognito-idp.<region>.amazonaws.com in AWS, the emulator's URL locally. */
  COGNITO_ISSUER_BASE: OptionalUrl,
  PORTAL_URL: z.url(),
  PRACTICE_NAME: z._default(Text, 'Our practice'),
  SENDER_EMAIL: z.email(),
  SES_CONFIGURATION_SET: z.optional(z.string()),
  /** Invitation PINs are sealed with this KMS key in AWS, or with the key file at PIN_KEY_FILE locally (adapters/pin-vault.ts). */
  PIN_KEY_ID: OptionalText,
  PIN_KEY_FILE: OptionalText,
  /** Lobby passwords (issue 16): the KMS HMAC key their hash key is derived from (adapters/lobby-key.ts); locally the PIN key file serves. */
  LOBBY_KEY_ID: OptionalText,
  /** Phone codes (issue 17): the SMS origination identity (AWS End User Messaging SMS) and the HMAC key of the codes; locally the SMS outbox is SMS_ENDPOINT. */
  SMS_ORIGINATION_IDENTITY: OptionalText,
  PHONE_CODE_KEY_ID: OptionalText,
  SMS_ENDPOINT: OptionalUrl,
  /** Endpoint overrides, set only by the local stack. */
  DYNAMODB_ENDPOINT: OptionalUrl,
  COGNITO_ENDPOINT: OptionalUrl,
  SES_ENDPOINT: OptionalUrl,
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
