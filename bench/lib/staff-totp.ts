/**
 * Staff sign-in for the bench scripts, through TOTP as in AWS (api.md): password →
 * SOFTWARE_TOKEN_MFA → a code from the seeded user's `totpSecret` (stack.json) → tokens.
 */
import { Secret, TOTP } from 'otpauth';

export type Post = (path: string, body: unknown) => Promise<{ status: number; json: Record<string, unknown> }>;

export async function staffAccessToken(post: Post, staff: { username: string; password: string; totpSecret: string }): Promise<string> {
  const first = await post('/staff/sessions', { username: staff.username, password: staff.password });
  if (first.status !== 200 || first.json.challenge !== 'SOFTWARE_TOKEN_MFA') {
    throw new Error(`staff sign-in answered ${first.status} ${String(first.json.challenge ?? first.json.title ?? '')}`);
  }
  const code = new TOTP({ secret: Secret.fromBase32(staff.totpSecret), algorithm: 'SHA1', digits: 6, period: 30 }).generate();
  const done = await post('/staff/sessions/challenge', { session: first.json.session, challenge: 'SOFTWARE_TOKEN_MFA', code });
  const token = done.json.accessToken;
  if (done.status !== 200 || typeof token !== 'string') throw new Error(`staff TOTP answered ${done.status}`);
  return token;
}
