/**
 * Rule 13 for sign-in over HTTP on the local stack: a wrong password for a real account and an
 * unknown username get the same status, the same bytes and (within the machine's noise) the
 * same time, over 50 requests each. The same comparison for reset requests is in resets.test.ts
 * ("rule 13: unknown usernames look the same") and for email-match requests in
 * email-match.test.ts ("rule 13: matched and unmatched requests answer in the same time").
 */
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { median, registered, staffTokens } from './support/patients.ts';
import { rawApi } from './support/raw-http.ts';

let staff: string;

beforeAll(async () => {
  ({ staff } = await staffTokens());
});

/** Medians of sign-in times differ by less than this (ms); the local emulators answer in tens of ms. */
const MARGIN_MS = 30;
const ROUNDS = 50;
/** Wrong passwords per account stay under the 5 free failures, so none of them is throttled. */
const TRIES_PER_ACCOUNT = 4;

const p90 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.9)]!;

describe('rule 13: sign-in answers alike for a wrong password and an unknown username', () => {
  it('rule 13: same status, byte-identical body and median time within the margin over 50 requests each', async () => {
    const accounts: { username: string }[] = [];
    for (let i = 0; i < Math.ceil(ROUNDS / TRIES_PER_ACCOUNT); i += 4) {
      accounts.push(...(await Promise.all(Array.from({ length: 4 }, () => registered(staff, 'EQ')))));
    }
    // A source address of its own, so the per-address budget (100 failures per window) is not
    // shared with other files, and these 100 failures do not spill over into them.
    const from = '127.0.13.1';
    const times = { existing: [] as number[], unknown: [] as number[] };
    const answers = new Map<string, number>();
    const timed = async (kind: keyof typeof times, username: string) => {
      const t0 = performance.now();
      const res = await rawApi('/sessions', { method: 'POST', body: { username, password: 'not the right password at all' }, localAddress: from });
      times[kind].push(performance.now() - t0);
      const key = `${res.status} ${res.headers['content-type']} ${res.text}`;
      answers.set(key, (answers.get(key) ?? 0) + 1);
    };
    // Warm both paths once (first-use costs are not what rule 13 is about); not measured below.
    await rawApi('/sessions', { method: 'POST', body: { username: `nobody-${randomUUID()}`, password: 'warm up the path first' }, localAddress: '127.0.13.2' });
    for (let round = 0; round < ROUNDS; round++) {
      const existing = accounts[Math.floor(round / TRIES_PER_ACCOUNT)]!.username;
      const pair = [() => timed('existing', existing), () => timed('unknown', `nobody-${randomUUID().slice(0, 8)}`)];
      // One of each at a time, alternating which goes first, so load and warm-up fall on both alike.
      if (round % 2) pair.reverse();
      for (const run of pair) await run();
    }
    const [mExisting, mUnknown] = [median(times.existing), median(times.unknown)];
    console.log(
      `rule 13 sign-in timing: wrong password median ${mExisting.toFixed(1)} ms (p90 ${p90(times.existing).toFixed(1)}), ` +
        `unknown username median ${mUnknown.toFixed(1)} ms (p90 ${p90(times.unknown).toFixed(1)}), n=${times.existing.length}/${times.unknown.length}, ` +
        `difference ${(mExisting - mUnknown).toFixed(1)} ms (margin ${MARGIN_MS} ms)`,
    );
    expect(times.existing).toHaveLength(ROUNDS);
    expect(times.unknown).toHaveLength(ROUNDS);
    // One answer, 100 times: status, content type and bytes.
    expect([...answers.values()]).toEqual([2 * ROUNDS]);
    const [only] = [...answers.keys()];
    expect(only).toMatch(/^401 application\/problem\+json /);
    expect(only).toContain('"resetAvailable":true');
    expect(Math.abs(mExisting - mUnknown)).toBeLessThan(MARGIN_MS);
  }, 180_000);
});
