/**
 * Proxy (caregiver) access, and one login for several records (issue 18, security rule 32).
 *
 * THE MODEL. A login (its permanent accountId) reaches one or more records, each with a role:
 *   - `self`: the record's own login, `record.accountId` (at most one login per record). The
 *     login's HOME record is the one its ACCOUNT# item names (the record it registered for);
 *     a second record of the same person joins with a proxy invitation of relationship "self"
 *     accepted with `existingLogin`: that record then names the same accountId.
 *   - `proxy`: a GRANT on the record (`PATIENT#<patientId>` / `PROXY#<proxyId>`): who (name,
 *     the email the link went to), relationship, scope (`full` | `limited`, see ProxyScope),
 *     an optional `until`, and a status: Invited (a one-time link is out) → Active (accepted:
 *     `accountId` is the proxy's login) → Ended (by staff, by the patient, or by inviting the
 *     same address again while still Invited). A passed `until` reads Ended without a write.
 *     Beside each accepted grant, the login's side (`ACCOUNT#<accountId>` / `RECORD#<patientId>`)
 *     lists the record for the login, so GET /account finds its records with one query.
 * A proxy may have a login and no record of their own (a "proxy-only" login): its ACCOUNT# item
 * then names no record and carries the login's own `generation` and `username`, so sign-in,
 * the pre-token trigger and every token check work for it (rule 17 applies the same way).
 *
 * RULE 32. "May this login act on this record, now?" (`resolveAccess`) is answered on every
 * request that acts on a record, from the grant item read then (consistent read), never from the
 * token: the login's own record (self), or an Active grant naming this login, whose `until` has
 * not passed, on a record whose access is on. So ending a grant, or `until` passing, refuses the
 * proxy's NEXT request for that record at once, while their own record still works.
 *
 * INVITATIONS are one-time links (one-time-link.ts) under `proxyLinkPolicy`: the same life as a
 * patient invitation (lifetime settings.invitationDays, a PIN typed with the link, 5 wrong PINs
 * lock it, rule 29's link generation of the record, one lease at a time, one transaction at the
 * end), in a key space of their own (PROXYINVITE#, PROXYLINK#). The link's subject is the pair
 * `<patientId>#<proxyId>` (a record may have several proxy invitations out at once); the PIN is
 * kept as a salted scrypt hash (nobody needs to see it again). Tokens carry the prefix `px.` in
 * the emailed link, so POST /registrations and POST /invitations/lookup know which flow a token
 * belongs to without reading anything (a patient invitation's calls stay exactly as they were).
 *
 * Scope: "full" — open the record as the patient sees it (its cases) and act in the portal for
 * them; "limited" — a read-only summary (whose record, no case list). Neither may manage proxies
 * or credentials of the record: only the patient (self) does (GET/POST/DELETE /account/proxies
 * act on the caller's HOME record only).
 */
import { randomUUID } from 'node:crypto';
import type { ProxyInvite, ProxyItem, AccountRecord, ProxyScope, ExistingLogin } from '../schemas/proxy.ts';
import { proxyInvitationEmail } from '../mail/proxies.ts';
import { auditEvent, patientTarget, type Actor, type AuditEvent } from './audit.ts';
import { DomainError, notFound, retryOnConflict, versionConflict } from './errors.ts';
import { registrationLink, invitationLinks, MAX_PIN_FAILURES, LEASE_SECONDS, type Mailer } from './invitations.ts';
import {
  checkSecrets,
  ended,
  isPending,
  leaseAndCommit,
  lookUp,
  newLink,
  type LinkPolicy,
  type LinkState,
  type LinkStore,
  type LinkWrite,
} from './one-time-link.ts';
import { passwordProblems, isPasswordRefusal, passwordRefusedByPool } from './password-policy.ts';
import { requireInvitePermission } from './permissions.ts';
import { linksStillLive, type StoredRecord } from './portal-record.ts';
import type { AccountStore, Clock, PatientLogins, RecordStore } from './ports.ts';
import { hashPin, newPin, opaqueToken, verifyPinHash } from './secrets.ts';
import { readSettings, type SettingsDefaults } from './settings.ts';
import { throttledSignIn, throttleKeys, type ThrottleStore } from './sign-in-throttle.ts';

// ------------------------------------------------------------------------------ the model

export type ProxyStatus = 'Invited' | 'Active' | 'Ended';

/** One grant on a record (`PATIENT#<patientId>` / `PROXY#<proxyId>`). Never shown as it is (`proxyView`). */
export interface ProxyGrant {
  proxyId: string;
  patientId: string;
  name: string;
  /** Where the link went (never logged, never audited). */
  email: string;
  relationship: string;
  scope: ProxyScope;
  until?: string;
  status: ProxyStatus;
  /** The proxy's login, once accepted. */
  accountId?: string;
  invitedAt: string;
  /** The audit actor who invited (staff id, or `patient:<accountId>`). */
  invitedBy: string;
  /** While Invited: when the link stops working. */
  expiresAt?: string;
  delivery?: 'Sent' | 'Failed';
  acceptedAt?: string;
  endedAt?: string;
  endedBy?: string;
  version: number;
}

/** The login's side of a record it reaches (`ACCOUNT#<accountId>` / `RECORD#<patientId>`). */
export interface LoginReach {
  accountId: string;
  patientId: string;
  proxyId: string;
  role: 'self' | 'proxy';
  until?: string;
}

/** A login's ACCOUNT# item as this module reads it: the home record, or (proxy-only) its own generation. */
export interface LoginItem {
  accountId: string;
  /** The login's own record; absent for a proxy-only login. */
  patientId?: string;
  /** Proxy-only logins: the login name and the revocation counter (rule 17) kept on the item. */
  username?: string;
  generation?: number;
}

/** The flow's own field on the link state. */
export interface ProxyLinkData {
  proxyId: string;
  relationship: string;
  /** The grant's `until`, copied to the login's side at acceptance. */
  until?: string;
}

export type ProxyLinks = LinkStore<ProxyLinkData>;

/** Persistence of grants and the login side (lambdas/adapters/dynamo-proxies.ts). */
export interface ProxyStore {
  grant(patientId: string, proxyId: string): Promise<ProxyGrant | undefined>;
  grants(patientId: string): Promise<ProxyGrant[]>;
  reach(accountId: string, patientId: string): Promise<LoginReach | undefined>;
  reaches(accountId: string): Promise<LoginReach[]>;
  login(accountId: string): Promise<LoginItem | undefined>;
  /**
   * A proxy-only login's credential change, all or nothing: its ACCOUNT# item (still proxy-only,
   * at `expectedGeneration`) gets `username` and the next generation (rule 17), the username is
   * claimed (free or already this login's: 'username-taken' otherwise) and the old one released,
   * the audit entry. A concurrent change of the item answers 'version-conflict'.
   */
  saveLogin(change: { accountId: string; expectedGeneration: number; username: string; release?: string; audit: AuditEvent }): Promise<void>;
  /**
   * A new grant (Invited) with its link, all or nothing: the grant (must be new), the link state
   * and pointer, the grant it replaces (ended, with its link) if any, the audit entry.
   */
  invite(change: {
    grant: ProxyGrant;
    link: Pick<LinkWrite<ProxyLinkData>, 'state' | 'putPointer'>;
    replaces?: { grant: ProxyGrant; expectedVersion: number; link?: { state: LinkState<ProxyLinkData>; expectedVersion: number; deletePointer?: string } };
    audit: AuditEvent;
  }): Promise<void>;
  /** Ends a grant, all or nothing: the grant (at its version), its live link, the login's side, the audit entry. */
  end(change: {
    grant: ProxyGrant;
    expectedVersion: number;
    link?: { state: LinkState<ProxyLinkData>; expectedVersion: number; deletePointer?: string };
    audit: AuditEvent;
  }): Promise<void>;
  /** Marks the invitation email's delivery on an Invited grant (best effort, no version bump). */
  markDelivery(patientId: string, proxyId: string, delivery: 'Sent' | 'Failed'): Promise<void>;
  links: ProxyLinks;
}

// ------------------------------------------------------------------------------ errors

export const proxyLinkGone = () =>
  new DomainError('gone', 'invitation-gone', 'This invitation link no longer works. Ask the practice to send you a new one.');

const wrongPin = (locked: boolean) =>
  new DomainError(
    'unauthorized',
    'wrong-pin',
    locked
      ? 'The PIN is not right. After too many wrong PINs this link no longer works: ask for a new invitation.'
      : 'The PIN is not right. Check the PIN you were given and try again.',
  );

const acceptanceInProgress = () =>
  new DomainError('conflict', 'registration-in-progress', 'A registration with this link is already under way. Wait a moment, then try again.');

const proxyConflict = () => new DomainError('conflict', 'proxy-conflict', 'Someone else changed this proxy at the same moment. Read the list again.');

export const alreadyReaches = () =>
  new DomainError('conflict', 'already-reaches', 'This login can already open this record. The invitation was not used; it still works for another login.');

const recordHasLogin = () =>
  new DomainError('conflict', 'already-registered', 'This record already has its own portal login, so it cannot be joined to another login as "self".');

const selfNeedsExistingLogin = () =>
  new DomainError('conflict', 'self-needs-existing-login', 'This invitation joins the record to a login you already have: sign in with that login\'s username and password here.');

const accessDisabled = () =>
  new DomainError('conflict', 'access-disabled', 'Portal access is disabled for this patient. Enable it before inviting a proxy.');

const cannotEndSelf = () =>
  new DomainError('conflict', 'self-link', 'This is the patient\'s own login joined to the record, not a proxy. Revoke access on the record instead.');

export const notOnThisRecord = () =>
  new DomainError('forbidden', 'no-access', 'This login may not open this record (now). Sign in with the login that can, or ask the patient or the practice.');

export const selfOnly = () =>
  new DomainError('forbidden', 'self-only', 'Only the patient, signed in with their own login, can see and manage who can act for them.');

const existingLoginRefused = () =>
  new DomainError('unauthorized', 'invalid-credentials', 'The username or password of your existing login is not right.', {
    errors: [{ path: 'body.existingLogin', message: 'is not a login with that password' }],
  });

const usernameTaken = () => new DomainError('conflict', 'username-taken', 'That username is already taken. Choose another.');

// ------------------------------------------------------------------------------ the link policy

/** A proxy link's token travels with this prefix, so the flow is known before anything is read. */
export const PROXY_TOKEN_PREFIX = 'px.';
export const isProxyToken = (token: string) => token.startsWith(PROXY_TOKEN_PREFIX);
const rawToken = (token: string) => token.slice(PROXY_TOKEN_PREFIX.length);

/** The link's subject: one state per proxy invitation. Patient ids never contain `#`. */
export const linkSubject = (patientId: string, proxyId: string) => `${patientId}#${proxyId}`;
export const patientOfSubject = (subject: string) => subject.split('#')[0]!;

export const isSelfRelationship = (relationship: string) => relationship.trim().toLowerCase() === 'self';

/**
 * The proxy invitation as a one-time link: the patient invitation's lifetime, limits and
 * throttles; the PIN as a scrypt hash; the record must still have access on (and, for "self",
 * no login of its own). A record's email change or access off kills it (rule 29, exactly).
 */
export const proxyLinkPolicy: LinkPolicy<ProxyLinkData> = {
  kind: 'proxy',
  lifetimeMs: (settings) => settings.invitationDays * 24 * 60 * 60 * 1000,
  secrets: [{ name: 'pin', matches: async (typed, stored) => stored !== undefined && (await verifyPinHash(typed, stored)) }],
  maxFailures: MAX_PIN_FAILURES,
  leaseSeconds: LEASE_SECONDS,
  recordAllows: (record, state) => record.accessEnabled && !(isSelfRelationship(state.data?.relationship ?? '') && record.accountId !== undefined),
  errors: { gone: proxyLinkGone, busy: acceptanceInProgress, wrongSecret: wrongPin, conflict: proxyConflict },
  audit: { wrongSecret: 'proxy.wrong-pin', locked: 'proxy.invitation-locked' },
  throttle: invitationLinks.throttle,
};

/**
 * The record store as the link module sees it for proxy links: a subject `<patientId>#<proxyId>`
 * reads the patient's record, and audit entries filed under the subject go to the patient's
 * trail, naming the proxy.
 */
export function subjectRecords(store: RecordStore): RecordStore {
  return {
    ...store,
    getRecord: (subject) => store.getRecord(patientOfSubject(subject)),
    appendAudit: (event) => store.appendAudit(auditForSubject(event)),
  };
}

/** An audit event filed under a link subject, moved to the patient's target with the proxyId in its detail. */
export function auditForSubject(event: AuditEvent): AuditEvent {
  const prefix = 'patient:';
  if (!event.target.startsWith(prefix) || !event.target.includes('#')) return event;
  const [patientId, proxyId] = event.target.slice(prefix.length).split('#');
  return { ...event, target: patientTarget(patientId!), detail: { ...event.detail, proxyId: proxyId! } };
}

// ------------------------------------------------------------------------------ views

/** What staff and the patient see of a grant: never the email, never a secret. */
export function proxyView(grant: ProxyGrant, now: Date): ProxyItem {
  const lapsed = grant.status === 'Active' && grant.until !== undefined && Date.parse(grant.until) <= now.getTime();
  return {
    proxyId: grant.proxyId,
    name: grant.name,
    relationship: grant.relationship,
    scope: grant.scope,
    ...(grant.until ? { until: grant.until } : {}),
    status: lapsed ? 'Ended' : grant.status,
    ...(grant.accountId ? { accountId: grant.accountId } : {}),
    invitedAt: grant.invitedAt,
    ...(grant.status === 'Invited' && grant.expiresAt ? { expiresAt: grant.expiresAt } : {}),
    ...(grant.acceptedAt ? { acceptedAt: grant.acceptedAt } : {}),
    ...(grant.endedAt ? { endedAt: grant.endedAt } : lapsed ? { endedAt: grant.until! } : {}),
  };
}

/** An Active grant naming this login, whose `until` has not passed (rule 32). */
export const grantActiveFor = (grant: ProxyGrant | undefined, accountId: string, now: Date): grant is ProxyGrant =>
  grant?.status === 'Active' && grant.accountId === accountId && (grant.until === undefined || Date.parse(grant.until) > now.getTime());

// ------------------------------------------------------------------------------ deps

export interface ProxyDeps {
  store: RecordStore;
  proxies: ProxyStore;
  mailer: Mailer;
  clock: Clock;
  settingsDefaults: SettingsDefaults;
  warn?: (msg: string, fields: Record<string, string>) => void;
}

export interface ProxyRegistrationDeps {
  store: RecordStore;
  proxies: ProxyStore;
  accounts: Pick<AccountStore, 'findByUsername' | 'findByAccountId'>;
  logins: Pick<PatientLogins, 'upsert' | 'remove' | 'signIn' | 'revokeRefreshToken'>;
  throttle: ThrottleStore;
  clock: Clock;
  settingsDefaults: SettingsDefaults;
}

/** The one-time link steps over the proxy key space. */
const linkDeps = (deps: { store: RecordStore; proxies: ProxyStore; throttle: ThrottleStore; clock: Clock }) => ({
  store: subjectRecords(deps.store),
  links: deps.proxies.links,
  throttle: deps.throttle,
  clock: deps.clock,
});

// ------------------------------------------------------------------------------ invite

export type Inviter = { kind: 'staff'; actor: Actor } | { kind: 'patient'; actor: Actor };

/**
 * Invites a proxy for `patientId`: a grant (Invited) and a one-time link, committed together
 * with the audit entry; then the link is emailed to the proxy; the PIN is answered to the
 * inviter only. Inviting the same address again while an invitation to it is still out
 * replaces that one (its link dies), so a retry after a lost answer or a failed email leaves one
 * invitation, not two.
 */
export async function inviteProxy(
  deps: ProxyDeps,
  inviter: Inviter,
  patientId: string,
  invite: ProxyInvite,
): Promise<{ proxyId: string; pin: string; expiresAt: string; delivery: 'Sent' | 'Failed' }> {
  if (inviter.kind === 'staff') requireInvitePermission(inviter.actor);
  const { actor } = inviter;
  const { settings } = await readSettings({ store: deps.store, defaults: deps.settingsDefaults });
  const pin = newPin();
  const pinHash = await hashPin(pin);
  const email = invite.email.trim();
  const sent = await retryOnConflict(async () => {
    const now = deps.clock();
    if (invite.until !== undefined && Date.parse(invite.until) <= now.getTime()) {
      throw new DomainError('bad-request', 'validation-error', 'The access would end before it starts.', {
        errors: [{ path: 'body.until', message: 'must be in the future' }],
      });
    }
    const [record, grants] = await Promise.all([deps.store.getRecord(patientId), deps.proxies.grants(patientId)]);
    if (!record) throw notFound('The portal record');
    if (!record.accessEnabled) throw accessDisabled();
    if (isSelfRelationship(invite.relationship) && record.accountId) throw recordHasLogin();
    const proxyId = randomUUID();
    const until = invite.until ? new Date(invite.until).toISOString() : undefined;
    const subject = linkSubject(patientId, proxyId);
    const issued = newLink(proxyLinkPolicy, {
      record: { ...record, patientId: subject },
      current: undefined,
      now,
      settings,
      secrets: { pin: pinHash },
      data: { proxyId, relationship: invite.relationship, ...(until ? { until } : {}) },
    });
    const grant: ProxyGrant = {
      proxyId,
      patientId,
      name: invite.name,
      email,
      relationship: invite.relationship,
      scope: invite.scope,
      ...(until ? { until } : {}),
      status: 'Invited',
      invitedAt: now.toISOString(),
      invitedBy: actor.id,
      expiresAt: issued.state.expiresAt,
      delivery: 'Failed',
      version: 1,
    };
    const earlier = grants.find((g) => g.status === 'Invited' && g.email.toLowerCase() === email.toLowerCase());
    const replaces = earlier ? await endingOf(deps.proxies, earlier, actor, now) : undefined;
    await deps.proxies.invite({
      grant,
      link: { state: issued.write.state, putPointer: issued.write.putPointer! },
      ...(replaces ? { replaces: { grant: replaces.grant, expectedVersion: earlier!.version, ...(replaces.link ? { link: replaces.link } : {}) } } : {}),
      audit: auditEvent(actor, patientTarget(patientId), 'proxy.invited', now, {
        proxyId,
        scope: invite.scope,
        by: inviter.kind,
        self: isSelfRelationship(invite.relationship),
        hasUntil: invite.until !== undefined,
        ...(earlier ? { replaced: earlier.proxyId } : {}),
      }),
    });
    return { proxyId, token: PROXY_TOKEN_PREFIX + issued.token, expiresAt: issued.state.expiresAt };
  });
  const message = proxyInvitationEmail({ practiceName: settings.practiceName, link: registrationLink(settings.portalUrl, sent.token), expiresAt: sent.expiresAt });
  let delivery: 'Sent' | 'Failed' = 'Sent';
  try {
    await deps.mailer.send({ to: email, ...message });
  } catch (err) {
    delivery = 'Failed';
    deps.warn?.('proxy invitation email failed', { errorName: err instanceof Error ? err.name : 'unknown' });
    await deps.store
      .appendAudit(auditEvent(actor, patientTarget(patientId), 'proxy.invitation-emailed', deps.clock(), { proxyId: sent.proxyId, delivery }, 'failure'))
      .catch(() => undefined);
  }
  if (delivery === 'Sent') {
    await deps.proxies.markDelivery(patientId, sent.proxyId, 'Sent').catch((err: unknown) => {
      deps.warn?.('proxy invitation delivery not recorded', { errorName: err instanceof Error ? err.name : 'unknown' });
    });
  }
  return { proxyId: sent.proxyId, pin, expiresAt: sent.expiresAt, delivery };
}

/** The grant ended, with its link if one is still out. */
async function endingOf(proxies: ProxyStore, grant: ProxyGrant, actor: Actor, now: Date) {
  const state = grant.status === 'Invited' ? await proxies.links.get(linkSubject(grant.patientId, grant.proxyId)) : undefined;
  const next: ProxyGrant = { ...grant, status: 'Ended', endedAt: now.toISOString(), endedBy: actor.id, version: grant.version + 1 };
  delete next.expiresAt;
  const link =
    state && state.status === 'Pending'
      ? { state: ended(state, 'Cancelled'), expectedVersion: state.version, ...(state.tokenHash ? { deletePointer: state.tokenHash } : {}) }
      : undefined;
  return { grant: next, link };
}

// ------------------------------------------------------------------------------ list, end

export async function listProxies(deps: Pick<ProxyDeps, 'store' | 'proxies' | 'clock'>, patientId: string, options: { requireRecord: boolean }): Promise<{ items: ProxyItem[] }> {
  const [record, grants] = await Promise.all([options.requireRecord ? deps.store.getRecord(patientId) : Promise.resolve(undefined), deps.proxies.grants(patientId)]);
  if (options.requireRecord && !record) throw notFound('The portal record');
  const now = deps.clock();
  return { items: grants.sort((a, b) => a.invitedAt.localeCompare(b.invitedAt)).map((g) => proxyView(g, now)) };
}

/**
 * Ends a proxy's access now (rule 32): the grant reads Ended, an Invited proxy's link dies,
 * and the login's side goes, in one transaction with the audit entry. The proxy's next request
 * for the record is refused (`resolveAccess` reads the grant). Ending an Ended proxy is a no-op.
 */
export async function endProxy(
  deps: Pick<ProxyDeps, 'store' | 'proxies' | 'clock'>,
  actor: Actor,
  patientId: string,
  proxyId: string,
  by: 'staff' | 'patient',
): Promise<ProxyItem> {
  return retryOnConflict(async () => {
    const now = deps.clock();
    const grant = await deps.proxies.grant(patientId, proxyId);
    if (!grant) throw notFound('The proxy');
    if (grant.status === 'Ended') return proxyView(grant, now);
    if (grant.status === 'Active' && isSelfRelationship(grant.relationship)) throw cannotEndSelf();
    const ending = await endingOf(deps.proxies, grant, actor, now);
    try {
      await deps.proxies.end({
        grant: ending.grant,
        expectedVersion: grant.version,
        ...(ending.link ? { link: ending.link } : {}),
        audit: auditEvent(actor, patientTarget(patientId), 'proxy.ended', now, { proxyId, by, was: grant.status }),
      });
    } catch (err) {
      if (err instanceof DomainError && err.code === 'proxy-conflict') throw versionConflict();
      throw err;
    }
    return proxyView(ending.grant, now);
  });
}

// ------------------------------------------------------------------------------ patient side: who can act for me

/** The caller's own (home) record: a proxy-only login has none, and a proxy never manages another's proxies. */
export function homeRecordOf(principal: { patientId: string }): string {
  if (!principal.patientId) throw selfOnly();
  return principal.patientId;
}

// ------------------------------------------------------------------------------ rule 32: may this login act on this record now?

export interface Access {
  record: StoredRecord;
  role: 'self' | 'proxy';
  scope: ProxyScope;
  grant?: ProxyGrant;
}

/**
 * "May this login act on this record, now?" The record's own login (self, full scope), or an
 * Active grant naming the login, `until` not passed, on a record whose access is on. Read on
 * every call, consistently: nothing in a token decides it. 403 otherwise (the same body whether
 * the record exists or not).
 */
export async function resolveAccess(
  deps: Pick<ProxyDeps, 'store' | 'proxies' | 'clock'>,
  login: { accountId: string },
  patientId: string,
): Promise<Access> {
  const [record, reach] = await Promise.all([deps.store.getRecord(patientId), deps.proxies.reach(login.accountId, patientId)]);
  if (!record || !record.accessEnabled) throw notOnThisRecord();
  if (record.accountId === login.accountId && !record.login?.mustChangePassword) return { record, role: 'self', scope: 'full' };
  if (reach?.role !== 'proxy') throw notOnThisRecord();
  const grant = await deps.proxies.grant(patientId, reach.proxyId);
  if (!grantActiveFor(grant, login.accountId, deps.clock())) throw notOnThisRecord();
  return { record, role: 'proxy', scope: grant.scope, grant };
}

/** The record as the login may see it: all the patient sees for self and "full"; no case list for "limited". */
export function recordFor(access: Access): AccountRecord {
  const { record, role, scope, grant } = access;
  return {
    patientId: record.patientId,
    role,
    ...(grant ? { relationship: grant.relationship, proxyId: grant.proxyId } : {}),
    scope,
    ...(grant?.until ? { until: grant.until } : {}),
    cases: scope === 'full' ? record.cases : [],
  };
}

/**
 * GET /account/records/{patientId}: opens one record the login reaches. A proxy's opening is
 * audited on the record, naming the proxy's login and grant (issue 18 item 5).
 */
export async function openRecord(
  deps: Pick<ProxyDeps, 'store' | 'proxies' | 'clock'>,
  login: { accountId: string; sourceIp: string },
  patientId: string,
): Promise<AccountRecord> {
  const access = await resolveAccess(deps, login, patientId);
  if (access.role === 'proxy') {
    await deps.store.appendAudit(
      auditEvent({ id: `patient:${login.accountId}`, sourceIp: login.sourceIp }, patientTarget(patientId), 'proxy.record-opened', deps.clock(), {
        proxyId: access.grant!.proxyId,
        accountId: login.accountId,
        scope: access.scope,
      }),
    );
  }
  return recordFor(access);
}

/** Every record the login reaches now: its home record first, then the others in patientId order. */
export async function recordsOf(deps: Pick<ProxyDeps, 'store' | 'proxies' | 'clock'>, login: { accountId: string; patientId: string }): Promise<AccountRecord[]> {
  const reaches = await deps.proxies.reaches(login.accountId);
  const ids = [...new Set([...(login.patientId ? [login.patientId] : []), ...reaches.map((r) => r.patientId)])];
  const found = await Promise.all(
    ids.map((id) =>
      resolveAccess(deps, login, id).then(
        (a) => recordFor(a),
        (err: unknown) => {
          if (err instanceof DomainError && err.code === 'no-access') return undefined;
          throw err;
        },
      ),
    ),
  );
  return found.filter((r): r is AccountRecord => r !== undefined);
}

// ------------------------------------------------------------------------------ look-up and registration with a proxy link

/** POST /invitations/lookup for a proxy token. */
export async function checkProxyInvitation(
  deps: { store: RecordStore; proxies: ProxyStore; throttle: ThrottleStore; clock: Clock; settingsDefaults: SettingsDefaults },
  token: string,
  sourceIp: string,
): Promise<{ practiceName: string; expiresAt: string; needs: ['pin']; kind: 'proxy'; self: boolean }> {
  const { state } = await lookUp(linkDeps(deps), proxyLinkPolicy, rawToken(token), sourceIp);
  const { settings } = await readSettings({ store: deps.store, defaults: deps.settingsDefaults });
  return { practiceName: settings.practiceName, expiresAt: state.expiresAt, needs: ['pin'], kind: 'proxy', self: isSelfRelationship(state.data?.relationship ?? '') };
}

export interface ProxyRegistration {
  token: string;
  pin: string;
  sourceIp: string;
  /** A new login of the proxy's own… */
  username?: string;
  password?: string;
  /** …or the login they already have. */
  existingLogin?: ExistingLogin;
}

/**
 * POST /registrations with a proxy token. The link, the PIN (a try reserved first, rule 5),
 * then either:
 *   - a NEW login (username, password): our password rules, the username free, the lease (the
 *     accountId fixed on the link before Cognito), Cognito creates the login, one transaction:
 *     grant Active, the login's items (ACCOUNT# without a record, USERNAME#, RECORD#), link Used,
 *     audit;
 *   - an EXISTING login (existingLogin): its password proved at Cognito with the server-side
 *     sign-in, throttled like a sign-in (per username and per address, a try reserved first);
 *     409 if that login already reaches the record; the lease; one transaction as above without
 *     a new login — for relationship "self" the record takes the login as its own.
 * Twenty acceptances at once: one lease, one success; the rest 409 "in progress" or 410.
 */
export async function registerWithProxyLink(deps: ProxyRegistrationDeps, attempt: ProxyRegistration): Promise<{ accountId: string; username: string }> {
  const ld = linkDeps(deps);
  const live = await lookUp(ld, proxyLinkPolicy, rawToken(attempt.token), attempt.sourceIp);
  const subject = live.state.patientId;
  const patientId = patientOfSubject(subject);
  const proxyId = live.state.data?.proxyId;
  if (!proxyId) throw proxyLinkGone();
  const held = await checkSecrets(ld, proxyLinkPolicy, live, { pin: attempt.pin }, attempt.sourceIp);
  await held.release();
  const grant = await deps.proxies.grant(patientId, proxyId);
  if (grant?.status !== 'Invited') throw proxyLinkGone();
  const self = isSelfRelationship(grant.relationship);

  if (attempt.existingLogin) {
    const { accountId, username } = await proveExistingLogin(deps, attempt.existingLogin, attempt.sourceIp);
    const [record, reach] = await Promise.all([deps.store.getRecord(patientId), deps.proxies.reach(accountId, patientId)]);
    if (record?.accountId === accountId) throw alreadyReaches();
    if (reach && (reach.role === 'self' || grantActiveFor(await deps.proxies.grant(patientId, reach.proxyId), accountId, deps.clock()))) throw alreadyReaches();
    if (self && record?.accountId) throw recordHasLogin();
    await leaseAndCommit(ld, proxyLinkPolicy, live, {
      newAccountId: accountId,
      outside: async (fixed) => {
        if (fixed !== accountId) throw acceptanceInProgress();
      },
      commit: (fresh, state, at, fixed) => acceptance(fresh, state, at, fixed, { self, username, sourceIp: attempt.sourceIp, newLogin: false, proxyId }),
    });
    return { accountId, username };
  }

  if (self) throw selfNeedsExistingLogin();
  const { username, password } = attempt;
  if (!username || !password) throw new DomainError('bad-request', 'validation-error', 'Choose a username and a password, or sign in with your existing login.', { errors: [{ path: 'body.username', message: 'is required' }] });
  const problems = passwordProblems(password, { username, email: grant.email });
  if (problems.length > 0) {
    throw new DomainError('bad-request', 'validation-error', 'The password cannot be used.', { errors: problems.map((message) => ({ path: 'body.password', message })) });
  }
  if (await deps.accounts.findByUsername(username)) throw usernameTaken();
  // A retry completes the login an unfinished attempt made, but never reuses the accountId of a
  // login that exists (an existing-login attempt may have fixed its own on the link).
  const fixedBefore = live.state.accountId;
  const reusable = fixedBefore !== undefined && !(await deps.accounts.findByAccountId(fixedBefore));
  const { accountId } = await leaseAndCommit(ld, proxyLinkPolicy, live, {
    newAccountId: reusable ? fixedBefore : randomUUID(),
    outside: async (fixed) => {
      await deps.logins.upsert(fixed, password).catch((err: unknown) => {
        throw isPasswordRefusal(err) ? passwordRefusedByPool('body.password') : err;
      });
    },
    undo: (fixed) => deps.logins.remove(fixed),
    commit: (fresh, state, at, fixed) => acceptance(fresh, state, at, fixed, { self: false, username, sourceIp: attempt.sourceIp, newLogin: true, proxyId }),
  });
  return { accountId, username };
}

/** The commit of an acceptance, from the record read just before it. */
function acceptance(
  record: StoredRecord | undefined,
  state: LinkState<ProxyLinkData>,
  at: Date,
  accountId: string,
  o: { self: boolean; username: string; sourceIp: string; newLogin: boolean; proxyId: string },
) {
  if (!record || !proxyLinkPolicy.recordAllows(record, state) || !linksStillLive(state.linkGeneration, record)) throw proxyLinkGone();
  if (record.accountId === accountId) throw alreadyReaches();
  const next: StoredRecord = o.self
    ? {
        ...record,
        accountId,
        username: o.username,
        registration: 'NormalRegistration',
        invite: record.invite.status === 'Pending' || record.invite.status === 'Locked' ? { ...record.invite, status: 'Cancelled' } : record.invite,
      }
    : record;
  return {
    record: next,
    linkAccount: o.newLogin,
    ...(o.newLogin ? { usernames: { claim: o.username } } : {}),
    audit: auditEvent({ id: `patient:${accountId}`, sourceIp: o.sourceIp }, patientTarget(record.patientId), 'proxy.accepted', at, {
      proxyId: o.proxyId,
      accountId,
      newLogin: o.newLogin,
      self: o.self,
    }),
  };
}

/**
 * The existing login's password, proved at Cognito with the server-side sign-in (rule 34), under
 * the sign-in throttle of that username (a try reserved first, rule 5). An unknown username asks
 * the pool too (same time, same 401). The tokens the proof minted are revoked at once.
 */
async function proveExistingLogin(deps: ProxyRegistrationDeps, existing: ExistingLogin, sourceIp: string): Promise<{ accountId: string; username: string }> {
  const keys = throttleKeys('patient', existing.username, sourceIp, deps.clock());
  const found = await throttledSignIn(
    deps,
    keys,
    async () => {
      const link = await deps.accounts.findByUsername(existing.username);
      const result = await deps.logins.signIn(link?.accountId ?? `unknown-${opaqueToken()}`, existing.password);
      if (!link) throw new DomainError('unauthorized', 'invalid-credentials', 'refused');
      return { link, result };
    },
    { reserve: true },
  ).catch((err: unknown) => {
    if (err instanceof DomainError && err.code === 'invalid-credentials') throw existingLoginRefused();
    throw err;
  });
  if (found.result.kind === 'tokens') await deps.logins.revokeRefreshToken(found.result.refreshToken).catch(() => undefined);
  // The login's own name: a proxy-only login keeps it on its ACCOUNT# item, a patient's on the record.
  const item = await deps.proxies.login(found.link.accountId);
  const record = item?.patientId ? await deps.store.getRecord(item.patientId) : undefined;
  const username = item?.username ?? record?.username ?? existing.username;
  return { accountId: found.link.accountId, username };
}

// ------------------------------------------------------------------------------ small helpers for handlers

/** Whether `state` is a pending, unexpired, unlocked proxy link (for tests and listings). */
export const proxyLinkPending = (state: LinkState<ProxyLinkData> | undefined, now: Date) => isPending(proxyLinkPolicy, state, now);
