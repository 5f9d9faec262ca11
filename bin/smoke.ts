/**
 * The checks a devops engineer runs after a deploy (README, "Deploy runbook"):
 *
 *   SMOKE_STAFF_USERNAME=… SMOKE_STAFF_PASSWORD=… SMOKE_STAFF_TOTP_SECRET=… \
 *     npm run smoke -- --api https://<api id>.execute-api.<region>.amazonaws.com/prod
 *
 * (--api is the stack's ApiUrl output; --patient and --email change the smoke record.)
 *
 * Steps: health, OpenAPI document, staff sign-in (password, then a TOTP code from the secret:
 * POST /staff/sessions → SOFTWARE_TOKEN_MFA → POST /staff/sessions/challenge), PUT a record for
 * a smoke patient, invite it at SES's success simulator address, cancel the invitation. Each
 * step prints ✓ or ✗ with its time; a step whose input failed is skipped. Exit 1 on any failure.
 *
 * Never printed: the password, the TOTP secret or code, tokens, the challenge session, the PIN.
 * Failures print the status and the problem's title only (never a response body).
 */
import { parseArgs } from 'node:util';
import { Secret, TOTP } from 'otpauth';

export interface SmokeOptions {
  api: string;
  patientId: string;
  email: string;
  username?: string;
  password?: string;
  totpSecret?: string;
}

interface Answer {
  status: number;
  json: any;
  headers: Headers;
}

const usage = `usage: npm run smoke -- --api <url> [--patient <id>] [--email <address>]
  <url>: the stack's ApiUrl output (aws cloudformation describe-stacks --stack-name PortalAccess --query "Stacks[0].Outputs")
  env: SMOKE_STAFF_USERNAME, SMOKE_STAFF_PASSWORD, SMOKE_STAFF_TOTP_SECRET (a staff user with invite permission)`;

/** The RFC 6238 code Cognito expects (SHA-1, 6 digits, 30 s). */
const totpCode = (secret: string) => new TOTP({ secret: Secret.fromBase32(secret.replace(/\s+/g, '')), algorithm: 'SHA1', digits: 6, period: 30 }).generate();

async function call(base: string, path: string, init: { method?: string; body?: unknown; token?: string } = {}): Promise<Answer> {
  const res = await fetch(`${base}${path}`, {
    method: init.method ?? 'GET',
    headers: {
      accept: 'application/json',
      ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
    },
    ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await res.text();
  let json: any;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, json, headers: res.headers };
}

/** What a failure may show: the status and the problem's title and type, nothing from a body that could hold a secret. */
const refused = (what: string, a: Answer, expected: number) =>
  new Error(`${what}: ${a.status} (expected ${expected})${typeof a.json?.title === 'string' ? ` ${a.json.title}` : ''}${typeof a.json?.type === 'string' ? ` [${a.json.type}]` : ''}`);

class Skipped extends Error {}

export async function smoke(options: SmokeOptions, print: (line: string) => void = (l) => console.log(l)): Promise<boolean> {
  const base = options.api.replace(/\/+$/, '');
  let failed = 0;
  const step = async <T>(name: string, run: () => Promise<T>): Promise<T | undefined> => {
    const started = performance.now();
    try {
      const value = await run();
      print(`✓ ${name} (${Math.round(performance.now() - started)} ms)`);
      return value;
    } catch (err) {
      const ms = Math.round(performance.now() - started);
      if (err instanceof Skipped) {
        print(`– ${name}: skipped (${err.message})`);
      } else {
        failed += 1;
        print(`✗ ${name} (${ms} ms): ${err instanceof Error ? err.message : String(err)}`);
      }
      return undefined;
    }
  };
  const need = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Skipped(`${what} failed`);
    return value;
  };

  print(`smoke check of ${base}`);
  await step('GET /health', async () => {
    const a = await call(base, '/health');
    if (a.status !== 200) throw refused('GET /health', a, 200);
  });
  await step('GET /openapi.json', async () => {
    const a = await call(base, '/openapi.json');
    if (a.status !== 200) throw refused('GET /openapi.json', a, 200);
    if (typeof a.json?.openapi !== 'string' || typeof a.json?.paths !== 'object') throw new Error('not an OpenAPI document');
  });

  const token = await step('staff sign-in (password, then TOTP)', async () => {
    const { username, password, totpSecret } = options;
    const missing = [
      ['SMOKE_STAFF_USERNAME', username],
      ['SMOKE_STAFF_PASSWORD', password],
      ['SMOKE_STAFF_TOTP_SECRET', totpSecret],
    ].filter(([, v]) => !v);
    if (missing.length) throw new Error(`set ${missing.map(([n]) => n).join(', ')}`);
    const first = await call(base, '/staff/sessions', { method: 'POST', body: { username, password } });
    if (first.status !== 200) throw refused('POST /staff/sessions', first, 200);
    if (first.json?.challenge !== 'SOFTWARE_TOKEN_MFA') {
      throw new Error(
        first.json?.accessToken
          ? 'signed in without TOTP: the staff pool must require it'
          : `POST /staff/sessions answered the ${String(first.json?.challenge)} challenge: finish that user's first sign-in in the console, then run this again`,
      );
    }
    const second = await call(base, '/staff/sessions/challenge', {
      method: 'POST',
      body: { session: first.json.session, challenge: 'SOFTWARE_TOKEN_MFA', code: totpCode(totpSecret!) },
    });
    if (second.status !== 200 || typeof second.json?.accessToken !== 'string') {
      const hint = second.status === 401 ? ' (wrong secret, a clock off by more than 30 s, or a code that already signed this user in: wait 30 s)' : '';
      throw refused(`POST /staff/sessions/challenge${hint}`, second, 200);
    }
    return second.json.accessToken as string;
  });

  const patient = `/patients/${encodeURIComponent(options.patientId)}/portal`;
  const record = await step(`PUT ${patient}`, async () => {
    const t = need(token, 'sign-in');
    const a = await call(base, patient, { method: 'PUT', token: t, body: { email: options.email, accessEnabled: true } });
    if (a.status !== 200) throw refused(`PUT ${patient}`, a, 200);
    // A run that stopped half way may have left its invitation pending: cancel it (404 when none).
    const leftover = await call(base, `${patient}/invitation`, { method: 'DELETE', token: t });
    if (leftover.status !== 200 && leftover.status !== 404) throw refused(`DELETE ${patient}/invitation (leftover)`, leftover, 200);
    return true;
  });

  const invited = await step(`POST ${patient}/invitation (to ${options.email})`, async () => {
    const t = need(token, 'sign-in');
    need(record, 'the record');
    const a = await call(base, `${patient}/invitation`, { method: 'POST', token: t });
    if (a.status !== 201) throw refused(`POST ${patient}/invitation`, a, 201);
    // The answer carries the PIN: read nothing from it but the delivery state.
    const delivery = a.json?.record?.invite?.delivery;
    if (delivery === 'Failed') throw new Error('SES refused the email: check the sender identity is verified (and production access, for real addresses)');
    return true;
  });

  await step(`DELETE ${patient}/invitation`, async () => {
    const t = need(token, 'sign-in');
    need(invited, 'the invitation');
    const a = await call(base, `${patient}/invitation`, { method: 'DELETE', token: t });
    if (a.status !== 200) throw refused(`DELETE ${patient}/invitation`, a, 200);
  });

  print(failed ? `✗ ${failed} step${failed === 1 ? '' : 's'} failed` : '✓ all steps passed');
  return failed === 0;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      api: { type: 'string' },
      patient: { type: 'string', default: 'SMOKE-CHECK' },
      email: { type: 'string', default: 'success@simulator.amazonses.com' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help || !values.api) {
    console.error(usage);
    process.exit(values.help ? 0 : 2);
  }
  const api = values.api;
  const env = process.env;
  const ok = await smoke({
    api,
    patientId: values.patient!,
    email: values.email!,
    ...(env.SMOKE_STAFF_USERNAME ? { username: env.SMOKE_STAFF_USERNAME } : {}),
    ...(env.SMOKE_STAFF_PASSWORD ? { password: env.SMOKE_STAFF_PASSWORD } : {}),
    ...(env.SMOKE_STAFF_TOTP_SECRET ? { totpSecret: env.SMOKE_STAFF_TOTP_SECRET } : {}),
  });
  process.exit(ok ? 0 : 1);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((err: unknown) => {
    console.error(`✗ ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
