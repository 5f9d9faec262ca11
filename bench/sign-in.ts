/**
 * Sign-in latency on the local stack, and how much of it is Cognito (issue 8's closing note).
 * Starts its own stack (fresh, free ports), registers one patient, then times N sign-ins through
 * POST /sessions and N direct InitiateAuth calls to cognito-local with the same credentials,
 * interleaved so both see the same machine load. Prints medians and p90s; writes nothing.
 *
 *   npm run bench:sign-in [-- 200]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CognitoIdentityProviderClient, InitiateAuthCommand } from '@aws-sdk/client-cognito-identity-provider';
import { freePorts } from '../lib/local/ports.ts';
import { startLocalStack } from '../lib/local/stack.ts';
import { staffAccessToken } from './lib/staff-totp.ts';

const rounds = Number(process.argv[2] ?? 100);
const password = 'lantern orchard pebble violin';

const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;

async function main() {
  const dataDir = await mkdtemp(join(tmpdir(), 'portal-bench-'));
  const stack = await startLocalStack({ dataDir, ports: await freePorts(), fresh: true });
  process.env.LOG_LEVEL = 'silent';
  const { info } = stack;
  const call = async (path: string, body: unknown, token?: string) => {
    const res = await fetch(new URL(path, info.apiUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
    return { status: res.status, json: (await res.json()) as Record<string, string> };
  };
  try {
    const staff = await staffAccessToken((path, body) => call(path, body), info.staff);
    await fetch(new URL('/patients/BENCH-1/portal', info.apiUrl), { method: 'PUT', headers: { 'content-type': 'application/json', authorization: `Bearer ${staff}` }, body: '{}' });
    const reg = (await call('/patients/BENCH-1/portal/registration', {}, staff)).json;
    const challenge = (await call('/sessions', { username: reg.username, password: reg.temporaryPassword })).json;
    await call('/sessions/new-password', { session: challenge.session, newPassword: password });
    const accountId = (JSON.parse(Buffer.from((await call('/sessions', { username: reg.username, password })).json.accessToken!.split('.')[1]!, 'base64url').toString()) as { username: string }).username;

    const cognito = new CognitoIdentityProviderClient({ region: 'us-east-1', endpoint: info.cognitoEndpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
    const api: number[] = [];
    const direct: number[] = [];
    for (let i = 0; i < rounds; i++) {
      let t = performance.now();
      const res = await call('/sessions', { username: reg.username, password });
      if (res.status !== 200) throw new Error(`sign-in answered ${res.status}`);
      api.push(performance.now() - t);
      t = performance.now();
      await cognito.send(new InitiateAuthCommand({ AuthFlow: 'USER_PASSWORD_AUTH', ClientId: info.patientClientId, AuthParameters: { USERNAME: accountId, PASSWORD: password } }));
      direct.push(performance.now() - t);
    }
    const row = (name: string, xs: number[]) => `${name.padEnd(34)} median ${percentile(xs, 50).toFixed(1).padStart(6)} ms   p90 ${percentile(xs, 90).toFixed(1).padStart(6)} ms`;
    console.log(`\nsign-in, ${rounds} rounds, interleaved`);
    console.log(row('POST /sessions (whole flow)', api));
    console.log(row('InitiateAuth direct (Cognito only)', direct));
    console.log(`Cognito share of the median: ${((percentile(direct, 50) / percentile(api, 50)) * 100).toFixed(0)} %`);
  } finally {
    await stack.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
