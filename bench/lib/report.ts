/** The bench's printed tables, and the design minimum of AWS calls per flow they are judged by. */
import type { BundleResult, InitStats } from './bundles.ts';
import type { FlowResult } from './flows.ts';
import type { ThroughputResult } from './health.ts';
import { RESET_REQUEST_FLOOR_MS } from '../../lambdas/domain/resets.ts';
import { quotaUse } from './quotas.ts';
import { fmt, kb } from './stats.ts';

export const targets = { bytesRatio: 1.3, initRatio: 1.3, latencyRatio: 1.2, healthRatio: 0.5 } as const;

export interface BundleRow extends BundleResult {
  init: InitStats;
  sdkOnlyInit: InitStats;
  bytesRatio: number;
  initRatio: number;
}

/**
 * The fewest calls each flow can make and keep its rules (see the README's "Cost" section for
 * the reasoning per flow). Filled from reading the domain code, not from the measurement.
 */
export const designMinimum: Record<string, { dynamodb: number; cognito: number; ses: number; why: string }> = {
  // A BatchGetItem of keys known at the same moment counts as one call; a transaction as one.
  // Every staff-token route first reads the caller's staff record (rule 30, one GetItem in the
  // auth layer, lambdas/http): it is counted in the minimum of those flows.
  'record write': {
    dynamodb: 3,
    cognito: 0,
    ses: 0,
    // Not 2: batching the staff record with the patient record would read a patient's record on
    // behalf of a token whose staff record may say disabled or cut off (rule 30 refuses it only
    // once that read is back), and the auth layer runs before the request is parsed, so it does
    // not know the patientId; a route-declared pre-read in the handler core would make it 2.
    why: 'staff record (rule 30, before anything of the patient is touched); the record (version, create or edit: the rules need its old values); one transaction: record + audit',
  },
  'record read': { dynamodb: 2, cognito: 0, ses: 0, why: 'staff record (rule 30); one GetItem (the staff token is checked locally)' },
  invite: {
    dynamodb: 4,
    cognito: 0,
    ses: 1,
    why: 'staff record (rule 30); one BatchGet (settings, record, invitation), one transaction (record, invitation, link, audit), the email, then one write marking delivery (it must follow SES)',
  },
  register: {
    dynamodb: 4,
    cognito: 2,
    ses: 0,
    why: 'BatchGet (link and PIN counters, link, username) then BatchGet (invitation, record, settings for the practice notice of issue 19); ONE write: lease + accountId + the PIN try (rule 5: spent before the compare, one compare at a time); AdminCreateUser + AdminSetUserPassword (permanent); one transaction conditional on the record read.',
  },
  'sign-in': {
    dynamodb: 6,
    cognito: 1,
    ses: 0,
    why: 'BatchGet (counters, username); the try reserved before Cognito (rule 5 under concurrency); AdminInitiateAuth, whose pre-token-generation trigger reads the account link then the record (2, rule 17: lambdas/triggers); the record; one transaction: counter cleared + audit',
  },
  'lobby issue': {
    dynamodb: 3,
    cognito: 0,
    ses: 0,
    why: 'staff record (rule 30); BatchGet (record, settings); one transaction: password, audit, the case number\'s guessing counter cleared',
  },
  'lobby sign-in': {
    dynamodb: 3,
    cognito: 0,
    ses: 0,
    why: 'BatchGet (counters, the record the case number names as a patientId, its lobby password) beside the byMasterCase Query (records it names besides: one more BatchGet); one transaction: password used, session, audit. No reservation: a one-time high-entropy secret (sign-in-throttle.ts)',
  },
  'staff sign-in': {
    dynamodb: 3,
    cognito: 1,
    ses: 0,
    why: 'BatchGet (counters); the try reserved (rule 5); InitiateAuth (password step, the TOTP step follows); one transaction: counter cleared + audit. The client secret is read once per cold start',
  },
  'reset request': {
    dynamodb: 3,
    cognito: 0,
    ses: 1,
    why: 'BatchGet (settings, username) then BatchGet (record, reset); one transaction (reset, link, audit); the email',
  },
  'reset confirm': {
    dynamodb: 4,
    cognito: 2,
    ses: 1,
    why: 'BatchGet (counters, link, a new username) then BatchGet (reset, record, settings); ONE write: lease + the try (rules 5, 7, 25); AdminSetUserPassword + AdminUserGlobalSignOut (rule 15); one transaction (record conditional on the version read, the sign-in counters cleared); the notice email',
  },
};

const pad = (s: string, n: number) => (s.length >= n ? s : s + ' '.repeat(n - s.length));
const lpad = (s: string, n: number) => (s.length >= n ? s : ' '.repeat(n - s.length) + s);
const mark = (ok: boolean) => (ok ? 'ok' : 'OVER');

export function printBundles(rows: BundleRow[], reference: { zod: { bytes: number; init: InitStats }; zodMini: { bytes: number; init: InitStats } }): void {
  console.log('\n## Bundles: each function as the stack bundles it, beside its SDK-only entry');
  const runs = Math.max(...rows.map((r) => r.init.samples.length));
  console.log(`(init: require() of the bundle in a fresh node ${process.version} process, median / p90 of ${runs}; — = not timed this run; targets ≤ ${targets.bytesRatio}×)`);
  console.log(
    [pad('function', 26), lpad('bundle', 8), lpad('zod', 7), lpad('own', 7), lpad('SDK-only', 9), lpad('×', 6), lpad('init ms', 13), lpad('SDK-only ms', 13), lpad('×', 6), '  clients'].join(' '),
  );
  for (const r of rows) {
    const clients = Object.keys(r.sdkImports).map((p) => p.replace('@aws-sdk/', '').replace('client-', '').replace('cognito-identity-provider', 'cognito'));
    console.log(
      [
        pad(r.id, 26),
        lpad(kb(r.bytes), 8),
        lpad(kb(r.zodBytes), 7),
        lpad(kb(r.ownBytes), 7),
        lpad(kb(r.sdkOnlyBytes), 9),
        lpad(r.sdkOnlyBytes > 1000 ? fmt(r.bytesRatio, 2) : 'n/a', 6),
        lpad(`${fmt(r.init.median)}/${fmt(r.init.p90)}`, 13),
        lpad(`${fmt(r.sdkOnlyInit.median)}/${fmt(r.sdkOnlyInit.p90)}`, 13),
        lpad(r.sdkOnlyBytes > 1000 ? fmt(r.initRatio, 2) : 'n/a', 6),
        // Without any SDK there is nothing to divide by: the absolute numbers are the figure.
        r.sdkOnlyBytes > 1000
          ? ` ${clients.join(',')} ${mark(r.bytesRatio <= targets.bytesRatio)}/${Number.isNaN(r.initRatio) ? '—' : mark(r.initRatio <= targets.initRatio)}`
          : ' (no SDK)',
      ].join(' '),
    );
  }
  console.log(
    `reference: zod alone ${kb(reference.zod.bytes)}, init ${fmt(reference.zod.init.median)} ms; zod/mini with the builders our schemas use ${kb(reference.zodMini.bytes)}, init ${fmt(reference.zodMini.init.median)} ms`,
  );
  const withSdk = rows.filter((r) => r.sdkOnlyBytes > 1000);
  const ifMini = withSdk.map((r) => (r.bytes - r.zodBytes + reference.zodMini.bytes) / r.sdkOnlyBytes);
  if (ifMini.length) {
    console.log(
      `with zod/mini instead of zod (bundle − zod bytes + that zod/mini probe): bundle ratio ${fmt(Math.min(...ifMini), 2)}–${fmt(Math.max(...ifMini), 2)}× (now ${fmt(Math.min(...withSdk.map((r) => r.bytesRatio)), 2)}–${fmt(Math.max(...withSdk.map((r) => r.bytesRatio)), 2)}×)`,
    );
  }
}

/**
 * `pinCheckMs`: one scrypt PIN check (secrets.ts), kept slow on purpose (issue 16 item 4: ~30-bit
 * PINs); reset confirm pays it once per request, so its target is against its calls plus that.
 */
export function printFlows(results: FlowResult[], pinCheckMs: number): void {
  console.log(`\n## Flows on the local stack: autocannon, 1 connection, ${results[0]?.requests ?? 0} requests each; raw = the same AWS calls made directly, same run`);
  console.log(
    [pad('flow', 14), lpad('p50 ms', 8), lpad('p99 ms', 8), lpad('raw p50', 8), lpad('raw p99', 8), lpad('×p50', 6), lpad('in-req', 7), lpad('×', 5), lpad('ddb', 4), lpad('cog', 4), lpad('ses', 4), lpad('min', 9), lpad('flows/s', 8), '  Cognito limit'].join(' '),
  );
  for (const r of results) {
    const min = designMinimum[r.flow];
    const q = quotaUse(r.ops.filter((o) => o.startsWith('cognito:')).map((o) => o.slice('cognito:'.length).replace(' FAILED', '')));
    const range = (s: 'dynamodb' | 'cognito' | 'ses') => (r.callsRange[s][0] === r.callsRange[s][1] ? String(r.calls[s]) : `${r.calls[s]}*`);
    const minimum = min ? `${min.dynamodb}/${min.cognito}/${min.ses}` : '?';
    const atMin = min ? r.calls.dynamodb === min.dynamodb && r.calls.cognito === min.cognito && r.calls.ses === min.ses : false;
    console.log(
      [
        pad(r.flow, 14),
        lpad(fmt(r.p50), 8),
        lpad(fmt(r.p99), 8),
        lpad(fmt(r.rawP50), 8),
        lpad(fmt(r.rawP99), 8),
        lpad(fmt(r.p50 / r.rawP50, 2), 6),
        lpad(fmt(r.callsP50), 7),
        lpad(fmt(r.p50 / r.callsP50, 2), 5),
        lpad(range('dynamodb'), 4),
        lpad(range('cognito'), 4),
        lpad(range('ses'), 4),
        lpad(`${minimum}${atMin ? '' : '!'}`, 9),
        lpad(Number.isFinite(q.flowsPerSecond) ? fmt(q.flowsPerSecond) : '∞', 8),
        `  ${q.limitedBy ? `${q.limitedBy} ${JSON.stringify(q.perCategory)}` : '(no Cognito call)'}`,
      ].join(' '),
    );
  }
  console.log('(* = not every request made the same number of calls; min = design minimum ddb/cog/ses, ! = not at it;');
  console.log(" in-req = the request's own calls timed as they ran inside it, p50: a replayed write whose condition now fails is answered without writing, so raw is low for flows that write)");
  // The target is against the calls as they ran (in-req): the replay's writes are refused
  // without writing, so for a flow that writes it is not the same work.
  const floor = (r: FlowResult) => r.callsP50 + (r.flow === 'reset confirm' ? pinCheckMs : 0);
  const over = results.filter((r) => r.flow !== 'reset request' && r.p50 / floor(r) > targets.latencyRatio).map((r) => `${r.flow} ${fmt(r.p50 / floor(r), 2)}×`);
  console.log(`×p50 against in-req ≤ ${targets.latencyRatio} (every flow but the reset request): ${over.length ? `OVER: ${over.join(', ')}` : 'ok'}`);
  const rc = results.find((r) => r.flow === 'reset confirm');
  if (rc) {
    console.log(
      `reset confirm: its calls (in-req p50 ${fmt(rc.callsP50)} ms) + one scrypt PIN check (${fmt(pinCheckMs)} ms, slow on purpose: issue 16 item 4) = ${fmt(floor(rc))} ms; answered p50 ${fmt(rc.p50)} ms = ${fmt(rc.p50 / floor(rc), 2)}×`,
    );
  }
  const rr = results.find((r) => r.flow === 'reset request');
  if (rr) {
    // Rule 13: the answer waits for a fixed floor whatever happened, so its ratio to raw calls says nothing.
    console.log(
      `reset request: rule 13 equal-time floor ${RESET_REQUEST_FLOOR_MS} ms; the work it pads: raw p50 ${fmt(rr.rawP50)} ms, p99 ${fmt(rr.rawP99)} ms (${fmt((100 * rr.rawP50) / RESET_REQUEST_FLOOR_MS, 0)}% of the floor); answered p50 ${fmt(rr.p50)} ms = ${fmt(rr.p50 / RESET_REQUEST_FLOOR_MS, 2)}× the floor`,
    );
  }
  console.log('\ncalls of one typical request:');
  for (const r of results) {
    console.log(`  ${pad(r.flow, 14)} ${r.ops.join('\n  ' + pad('', 14) + ' → ')}`);
    if (r.dynamoWriteRequests > 1) console.log(`  ${pad('', 14)} ! ${r.dynamoWriteRequests} DynamoDB write requests in one state change`);
    for (const rr of r.repeatedReads) console.log(`  ${pad('', 14)} ! repeated read: ${rr}`);
  }
}

export function printHealth(h: ThroughputResult): void {
  console.log(`\n## GET /health, ${h.connections} connections, ${h.seconds} s each, alternating`);
  console.log(
    `local server ${fmt(h.localRps, 0)} req/s, bare node http ${fmt(h.bareRps, 0)} req/s: ${fmt(h.ratio, 2)}× (target ≥ ${targets.healthRatio}×) ${mark(h.ratio >= targets.healthRatio)}`,
  );
}
