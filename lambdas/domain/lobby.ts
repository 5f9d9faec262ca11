/**
 * Lobby mode (security rule 12). Staff give a patient at the front desk a short-lived lobby
 * password; the patient types it, with their case number, on a lobby device and gets a lobby
 * token of scope "intake": intake paperwork only, never patient data, one session per password.
 *
 * Secrets:
 * - Lobby password: 10 characters from a 31-character alphabet without look-alikes (~49.5 bits),
 *   from a CSPRNG, shown as XXXXX-XXXXX; input is accepted in any case, with or without the dash.
 *   Kept only as HMAC-SHA-256 under a key that is not in the table (why not scrypt: the one
 *   comment in ./secrets.ts); passwords issued before, or where no key is configured, as
 *   scrypt(normalised password, 16-byte random salt), and those still verify. Online guessing is
 *   bounded by the throttle (at most 100 failures per case number before it locks).
 * - Lobby token: 32 random bytes, base64url (256 bits); kept only as its SHA-256 (enough at that
 *   entropy, security rule 9), so a copy of the table holds no usable token.
 *
 * The token is checked on every use against its own expiry (DynamoDB Local never expires TTL
 * items) and against the portal record: access disabled, or anything that bumped the record's
 * generation since the password was issued (revoke, access off, an email or credential change:
 * lambdas/domain/portal-record.ts), ends it at once (security rule 17). The password and the
 * session each carry the generation they were made under, compared exactly.
 */
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { constantTimeEqual, keyedHash, opaqueToken, readableAlphabet, readableSecret, sha256 } from './secrets.ts';
import { auditEvent, patientTarget, type Actor, type AuditEvent } from './audit.ts';
import { DomainError, notFound } from './errors.ts';
import { readTogether, type Clock, type RecordStore } from './ports.ts';
import { sessionGenerationOf, sessionStillLive, type StoredRecord } from './portal-record.ts';
import { readSettings, type SettingsDefaults } from './settings.ts';
import { accountThrottleKey, throttledSignIn, throttleKeys, type ThrottleStore } from './sign-in-throttle.ts';

export const lobbyAlphabet = readableAlphabet; // no 0/O, 1/I/L
export const lobbyPasswordLength = 10;
export const lobbyScope = 'intake' as const;
/** Audit target of lobby sign-ins that matched no record (there is no patient to file them under). */
export const lobbyTarget = 'lobby';
/** The actor of lobby sign-in events: whoever holds the lobby password; it is not a login. */
export const lobbyActor = 'lobby';
/** How many records one case number may name before the rest are ignored (it should name one). */
export const maxCandidates = 5;

/** A lobby password as stored: never the password itself. */
export interface StoredLobbyPassword {
  patientId: string;
  salt: string;
  passwordHash: string;
  /** How passwordHash was made: HMAC-SHA-256 under the lobby key; absent: scrypt (issued before issue 16, or with no key). */
  scheme?: typeof keyedScheme;
  createdAt: string;
  createdBy: string;
  expiresAt: string;
  used: boolean;
  /** The session the password was traded for (set when used): a retry with the same idempotency key finds it. */
  sessionTokenHash?: string;
  /** The record's generation when the password was issued: it works only while that is still the record's (rule 17). */
  generation?: number;
}

/** A lobby session as stored: keyed by the token's hash, never the token. */
export interface StoredLobbySession {
  tokenHash: string;
  patientId: string;
  scope: typeof lobbyScope;
  createdAt: string;
  expiresAt: string;
  /** SHA-256 of the idempotency key the sign-in came with: a retry with the same key and password gets this session again. */
  idempotencyKeyHash?: string;
  /** The record's generation the session was opened under: it lives only while that is still the record's (rule 17). */
  generation?: number;
}

export interface LobbyStore {
  /** Ids of the records whose masterCase is this one, in any case (at most maxCandidates). */
  patientIdsByMasterCase(masterCase: string): Promise<string[]>;
  getPassword(patientId: string): Promise<StoredLobbyPassword | undefined>;
  /**
   * Stores the patient's lobby password, replacing any earlier one, and its audit event, and
   * deletes the throttle counter `clearThrottle` (the case number's guessing count): all or nothing.
   */
  putPassword(password: StoredLobbyPassword, audit: AuditEvent, clearThrottle: string): Promise<void>;
  /**
   * In one transaction: marks `password` used, stores `session` and the audit event, on the
   * condition that the stored password is still this one, unused and unexpired at `now`.
   * Answers false when that condition failed (a concurrent sign-in won, or staff replaced it).
   */
  redeem(password: StoredLobbyPassword, session: StoredLobbySession, now: Date, audit: AuditEvent): Promise<boolean>;
  getSession(tokenHash: string): Promise<StoredLobbySession | undefined>;
  /**
   * A retry of a sign-in whose answer was lost: in one transaction, the session `previous` (still
   * the password's, with the same idempotency key) is replaced by `next` (a new token, the same
   * patient, start and expiry), so one session per password still holds. False when the
   * condition failed (another retry won, or the password is no longer that one).
   */
  replaySession(password: StoredLobbyPassword, previous: StoredLobbySession, next: StoredLobbySession, now: Date, audit: AuditEvent): Promise<boolean>;
  /** Ends the session (the kiosk's End), with its audit event. Nothing when it is already gone. */
  endSession(tokenHash: string, audit: AuditEvent): Promise<void>;
}

/** How an idempotency key is kept: hashed, never as sent. */
export const hashIdempotencyKey = (key: string): string => sha256(`lobby-sign-in:${key}`);

/** Where secrets come from: a CSPRNG in production, something predictable in a unit test. */
export interface LobbySecrets {
  lobbyPassword(): string;
  sessionToken(): string;
  salt(): string;
  /** The key of the lobby password hash, or how to get it (KMS, at first use: adapters/lobby-key.ts); absent: scrypt. */
  hashKey?: Buffer | LobbyHashKey;
}

/** The hash key from where it is kept (KMS in AWS); it throws (a 500) rather than give none. */
export type LobbyHashKey = () => Promise<Buffer>;

const hashKeyOf = async (secrets: LobbySecrets): Promise<Buffer | undefined> =>
  typeof secrets.hashKey === 'function' ? secrets.hashKey() : secrets.hashKey;

export const cryptoSecrets: LobbySecrets = {
  lobbyPassword() {
    const chars = readableSecret(lobbyPasswordLength);
    return `${chars.slice(0, 5)}-${chars.slice(5)}`;
  },
  sessionToken: opaqueToken,
  salt: () => randomBytes(16).toString('base64url'),
};

/** What the patient typed, as compared: upper case, without dashes or spaces. */
export const normaliseLobbyPassword = (typed: string): string => typed.toUpperCase().replace(/[\s-]/g, '');

export const keyedScheme = 'hmac-sha256' as const;

/** HMAC-SHA-256(key, salt ‖ normalised password): bound to its salt, so two equal passwords never share a hash. */
export const keyedLobbyHash = (key: Buffer, normalised: string, salt: string): string => keyedHash(key, 'lobby-password', `${salt}:${normalised}`);

/** The typed password hashed as `stored` was; undefined when this function cannot (a keyed hash and no key). The key is fetched only for a keyed hash. */
async function hashAsStored(typed: string, stored: Pick<StoredLobbyPassword, 'salt' | 'scheme'>, secrets: LobbySecrets): Promise<string | undefined> {
  if (stored.scheme !== keyedScheme) return hashLobbyPassword(typed, stored.salt);
  const key = await hashKeyOf(secrets);
  return key ? keyedLobbyHash(key, typed, stored.salt) : undefined;
}

// scrypt at N=2^14, r=8: ~16 MiB and some tens of milliseconds per check (passwords without a scheme).
const scryptParams = { N: 2 ** 14, r: 8, p: 1, maxmem: 64 * 1024 * 1024 } as const;

export function hashLobbyPassword(normalised: string, salt: string): Promise<string> {
  return new Promise((resolve, reject) => {
    scrypt(normalised, Buffer.from(salt, 'base64url'), 32, scryptParams, (err, key) =>
      err ? reject(err) : resolve(key.toString('base64url')),
    );
  });
}

export const hashLobbyToken = sha256;

const sameHash = (a: string, b: string): boolean => {
  const x = Buffer.from(a, 'base64url');
  const y = Buffer.from(b, 'base64url');
  return x.length === y.length && timingSafeEqual(x, y);
};

/** What the patient types as "Case number" for this record. */
export const lobbySignInName = (record: StoredRecord): string => record.masterCase ?? record.patientId;

// ------------------------------------------------------------------ staff: issue a lobby password

export interface IssueDeps {
  store: RecordStore;
  lobby: LobbyStore;
  throttle: ThrottleStore;
  clock: Clock;
  secrets: LobbySecrets;
  defaults: SettingsDefaults;
}

export interface IssuedLobbyPassword {
  lobbyPassword: string;
  expiresAt: string;
  masterCase: string;
}

export const accessDisabled = () =>
  new DomainError('conflict', 'access-disabled', 'Portal access is disabled for this patient. Enable it before giving a lobby password.');

/**
 * Makes a new lobby password for the patient, valid settings.lobbyMinutes; any earlier one stops
 * working. The record must exist and have access enabled; the patient needs no login. Clears the
 * lobby guessing counter of the patient's case number (the staff action of security rule 5).
 */
export async function issueLobbyPassword(deps: IssueDeps, actor: Actor, patientId: string): Promise<IssuedLobbyPassword> {
  // The record and the settings in one read (issue 16).
  const [record, { settings }] = await readTogether(deps.store, () => Promise.all([deps.store.getRecord(patientId), readSettings(deps)]));
  if (!record) throw notFound('The portal record');
  if (!record.accessEnabled) throw accessDisabled();
  const now = deps.clock();
  const expiresAt = new Date(now.getTime() + settings.lobbyMinutes * 60_000).toISOString();
  const lobbyPassword = deps.secrets.lobbyPassword();
  const salt = deps.secrets.salt();
  const key = await hashKeyOf(deps.secrets);
  const typed = normaliseLobbyPassword(lobbyPassword);
  const stored: StoredLobbyPassword = {
    patientId,
    salt,
    passwordHash: key ? keyedLobbyHash(key, typed, salt) : await hashLobbyPassword(typed, salt),
    ...(key ? { scheme: keyedScheme } : {}),
    createdAt: now.toISOString(),
    createdBy: actor.id,
    expiresAt,
    used: false,
    generation: sessionGenerationOf(record),
  };
  const audit = auditEvent(actor, patientTarget(patientId), 'lobby-password.issued', now, { lobbyMinutes: settings.lobbyMinutes, expiresAt });
  const masterCase = lobbySignInName(record);
  // The case number's guessing counter is cleared in the same transaction as the password.
  await deps.lobby.putPassword(stored, audit, accountThrottleKey('lobby', masterCase));
  return { lobbyPassword, expiresAt, masterCase };
}

// ------------------------------------------------------------------ public: sign in to the lobby

export interface SignInDeps {
  store: RecordStore;
  lobby: LobbyStore;
  throttle: ThrottleStore;
  clock: Clock;
  secrets: LobbySecrets;
}

export interface LobbySignIn {
  lobbyToken: string;
  expiresAt: string;
  scope: typeof lobbyScope;
  patientId: string;
}

/**
 * One refusal for every way a lobby sign-in can fail (unknown case number, wrong, used, expired
 * or replaced password, access disabled, revoked): the caller learns nothing about which. The
 * code `invalid-credentials` makes the throttle count it; `reason` goes to the audit trail only.
 */
class LobbyRefusal extends DomainError {
  constructor(readonly reason: string) {
    super('unauthorized', 'invalid-credentials', 'The case number or lobby password is not right, or the lobby password has been used or has expired.');
  }
}

interface Candidate {
  record: StoredRecord;
  password: StoredLobbyPassword | undefined;
}

/**
 * The records a typed case number can name: those whose masterCase it is (any case), and the
 * record whose patientId it is where that record has no masterCase. Each is read again with a
 * consistent read, since the index may lag a change of masterCase or of access. `byId` is the
 * record (and its password) whose patientId the case number is, read with the throttle counters
 * (one call); the records the index names besides it, and their passwords, are one more read.
 */
async function candidatesFor(
  { store, lobby }: Pick<SignInDeps, 'store' | 'lobby'>,
  masterCase: string,
  ids: string[],
  byId: Candidate | undefined,
): Promise<Candidate[]> {
  const others = ids.slice(0, maxCandidates).filter((id) => id !== byId?.record.patientId);
  const read = await readTogether(store, () => Promise.all(others.map((id) => Promise.all([store.getRecord(id), lobby.getPassword(id)]))));
  const more = read.map(([record, password]) => ({ record, password }));
  const named = byId && ids.slice(0, maxCandidates).includes(byId.record.patientId) ? [byId] : [];
  const found = [...named, ...more].filter(
    (c): c is Candidate => c.record?.masterCase !== undefined && c.record.masterCase.toLowerCase() === masterCase.toLowerCase(),
  );
  if (byId && byId.record.masterCase === undefined) found.push(byId);
  return found;
}

/** The record whose patientId the case number is, with its lobby password: read along with the counters. */
async function readById({ store, lobby }: Pick<SignInDeps, 'store' | 'lobby'>, masterCase: string): Promise<Candidate | undefined> {
  const [record, password] = await Promise.all([store.getRecord(masterCase), lobby.getPassword(masterCase)]);
  return record ? { record, password } : undefined;
}

const dummySalt = randomBytes(16).toString('base64url');

/** Why a matching password cannot open a session now, or undefined when it can. */
function unusable(record: StoredRecord, password: StoredLobbyPassword, now: Date): string | undefined {
  if (password.used) return 'used';
  if (Date.parse(password.expiresAt) <= now.getTime()) return 'expired';
  if (!record.accessEnabled) return 'access-disabled';
  // Issued under another generation: a revoke, access off, an email or credential change since (exact, rule 17).
  if (!sessionStillLive(password.generation, record)) return 'revoked';
  return undefined;
}

/**
 * POST /lobby-sessions. With an idempotency key, a retry of a sign-in whose answer was lost (same
 * key, same case number and password) gets the session again, under a new token that replaces the
 * undelivered one, instead of the 401 of a used password. Without the key, or with another one,
 * a used password is refused as before.
 */
export async function signInToLobby(
  deps: SignInDeps,
  attempt: { masterCase: string; lobbyPassword: string; sourceIp: string; idempotencyKey?: string },
): Promise<LobbySignIn> {
  const { masterCase, sourceIp } = attempt;
  const actor: Actor = { id: lobbyActor, sourceIp };
  let target = lobbyTarget;
  try {
    // The index query goes out at once; the record and password the case number names as a
    // patientId are read in the same call as the counters (issue 16).
    const alsoRead = () => Promise.all([deps.lobby.patientIdsByMasterCase(masterCase), readById(deps, masterCase)]);
    return await throttledSignIn(deps, throttleKeys('lobby', masterCase, sourceIp, deps.clock()), async ([ids, byId]) => {
      const candidates = await candidatesFor(deps, masterCase, ids, byId);
      if (candidates[0]) target = patientTarget(candidates[0].record.patientId);
      const typed = normaliseLobbyPassword(attempt.lobbyPassword);
      const keyed = deps.secrets.hashKey !== undefined;
      let match: Candidate | undefined;
      for (const candidate of candidates) {
        if (!candidate.password) continue;
        const hash = await hashAsStored(typed, candidate.password, deps.secrets);
        if (hash !== undefined && sameHash(hash, candidate.password.passwordHash) && !match) match = candidate;
      }
      // Costs the same whether or not a password exists to compare with.
      if (!candidates.some((c) => c.password)) await hashAsStored(typed, { salt: dummySalt, ...(keyed ? { scheme: keyedScheme } : {}) }, deps.secrets);
      if (!match?.password) throw new LobbyRefusal(candidates.length ? 'wrong-password' : 'no-match');
      target = patientTarget(match.record.patientId);

      const now = deps.clock();
      const keyHash = attempt.idempotencyKey ? hashIdempotencyKey(attempt.idempotencyKey) : undefined;
      const why = unusable(match.record, match.password, now);
      if (why === 'used' && keyHash) return replay(deps, match as Candidate & { password: StoredLobbyPassword }, keyHash, actor, target, now);
      if (why) throw new LobbyRefusal(why);
      const lobbyToken = deps.secrets.sessionToken();
      const session: StoredLobbySession = {
        tokenHash: hashLobbyToken(lobbyToken),
        patientId: match.record.patientId,
        scope: lobbyScope,
        createdAt: now.toISOString(),
        // The session ends with the password's own validity: lobby mode never outlasts settings.lobbyMinutes.
        expiresAt: match.password.expiresAt,
        ...(keyHash ? { idempotencyKeyHash: keyHash } : {}),
        // The generation just checked on the password: a bump after this read kills the session too.
        generation: sessionGenerationOf(match.record),
      };
      const audit = auditEvent(actor, target, 'lobby.sign-in', now, { scope: lobbyScope, reason: 'session' });
      if (!(await deps.lobby.redeem(match.password, session, now, audit))) throw new LobbyRefusal('used-concurrently');
      return { lobbyToken, expiresAt: session.expiresAt, scope: lobbyScope, patientId: session.patientId };
    }, { alsoRead });
  } catch (err) {
    if (err instanceof DomainError) {
      const reason = err instanceof LobbyRefusal ? err.reason : err.code;
      await deps.store.appendAudit(auditEvent(actor, target, 'lobby.sign-in', deps.clock(), { scope: lobbyScope, reason }, 'failure'));
    }
    throw err;
  }
}

/**
 * The retry of a sign-in whose answer was lost: the password is used, by a session that came with
 * this very idempotency key and still works (unexpired, access on, not revoked since). Anything
 * else is the used password's one refusal.
 */
async function replay(
  deps: SignInDeps,
  match: Candidate & { password: StoredLobbyPassword },
  keyHash: string,
  actor: Actor,
  target: string,
  now: Date,
): Promise<LobbySignIn> {
  const { password, record } = match;
  // Everything but "used" still refuses: expiry, access off, a revoke since the password was issued.
  const why = unusable(record, { ...password, used: false }, now);
  if (why) throw new LobbyRefusal(why);
  const previous = password.sessionTokenHash ? await deps.lobby.getSession(password.sessionTokenHash) : undefined;
  const same =
    previous !== undefined &&
    previous.idempotencyKeyHash !== undefined &&
    constantTimeEqual(previous.idempotencyKeyHash, keyHash) &&
    previous.patientId === record.patientId &&
    Date.parse(previous.expiresAt) > now.getTime();
  if (!same) throw new LobbyRefusal('used');
  const lobbyToken = deps.secrets.sessionToken();
  const next: StoredLobbySession = { ...previous, tokenHash: hashLobbyToken(lobbyToken) };
  const audit = auditEvent(actor, target, 'lobby.sign-in', now, { scope: lobbyScope, reason: 'session-replayed' });
  if (!(await deps.lobby.replaySession(password, previous, next, now, audit))) throw new LobbyRefusal('used-concurrently');
  return { lobbyToken, expiresAt: next.expiresAt, scope: lobbyScope, patientId: next.patientId };
}

// ------------------------------------------------------------------ lobby routes: end a session

/** DELETE /lobby-sessions/current: the kiosk's End ends the session on the server too. */
export async function endLobbySession(deps: Pick<TokenDeps, 'lobby' | 'clock'>, grant: LobbyGrant, sourceIp: string): Promise<void> {
  const audit = auditEvent({ id: lobbyActor, sourceIp }, patientTarget(grant.patientId), 'lobby.session-ended', deps.clock(), { scope: lobbyScope });
  await deps.lobby.endSession(grant.tokenHash, audit);
}

// ------------------------------------------------------------------ lobby routes: check a token

export interface TokenDeps {
  store: RecordStore;
  lobby: LobbyStore;
  clock: Clock;
}

export interface LobbyGrant {
  patientId: string;
  scope: typeof lobbyScope;
  expiresAt: string;
  /** The session's key (the token's hash, never the token): what ending it deletes. */
  tokenHash: string;
}

const tokenShape = /^[A-Za-z0-9_-]{43}$/;

/**
 * The session a lobby token opens, or undefined when it opens none: unknown, expired, or the
 * record is gone, disabled, or its generation is no longer the session's (revoke, access off, an
 * email or credential change since: rule 17, exact).
 */
export async function checkLobbyToken({ store, lobby, clock }: TokenDeps, token: string): Promise<LobbyGrant | undefined> {
  if (!tokenShape.test(token)) return undefined;
  const session = await lobby.getSession(hashLobbyToken(token));
  if (!session || session.scope !== lobbyScope) return undefined;
  if (Date.parse(session.expiresAt) <= clock().getTime()) return undefined;
  const record = await store.getRecord(session.patientId);
  if (!record?.accessEnabled) return undefined;
  if (!sessionStillLive(session.generation, record)) return undefined;
  return { patientId: session.patientId, scope: session.scope, expiresAt: session.expiresAt, tokenHash: session.tokenHash };
}
