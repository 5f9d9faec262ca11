/**
 * Proxy (caregiver) access and one login for several records (issue 18, api.md, security rule
 * 32): the shapes of the proxy routes, of `GET /account` with its `records`, and of opening one
 * record the login reaches (`GET /account/records/{patientId}`).
 */
// The functional style both zod and zod/mini accept (the zod/mini conversion switches this import).
import * as z from 'zod/mini';
import { IsoDateTime, PatientId } from './common.ts';

/** The id of one proxy grant (a UUID this service made). */
export const ProxyId = /* @__PURE__ */ (() => z.string().check(z.regex(/^[A-Za-z0-9-]{1,64}$/, 'is not a proxy id this service handed out')))();

export const ProxyScope = /* @__PURE__ */ (() => z.enum(['full', 'limited']).check(z.meta({
  id: 'ProxyScope',
  description:
    'What a proxy may do with the record. "full": open the record as the patient sees it (its cases included) and act in the portal for the patient. ' +
    '"limited": open a read-only summary of the record (whose record it is, no case list); nothing else. ' +
    'Neither scope may invite or end proxies, nor change the patient\'s credentials: only the patient (role "self") manages who can act for them.',
})))();
export type ProxyScope = z.infer<typeof ProxyScope>;

/**
 * How the proxy is related to the patient, in the practice's words ("parent", "child", "carer"…).
 * "self" is special: the same person's own login, which then reaches this record with role
 * "self" (one login for several records); accepted only with `existingLogin`, and only for a
 * record that has no login yet.
 */
export const Relationship = /* @__PURE__ */ (() => z.string().check(z.trim(), z.regex(/^[A-Za-z][A-Za-z .'-]{0,39}$/, 'must be 1 to 40 letters, spaces, . \' or -')))();

export const ProxyStatus = /* @__PURE__ */ (() => z.enum(['Invited', 'Active', 'Ended']))();
export type ProxyStatus = z.infer<typeof ProxyStatus>;

/** POST /patients/{patientId}/portal/proxies and POST /account/proxies. */
export const ProxyInvite = /* @__PURE__ */ (() => z
  .strictObject({
    name: z.string().check(z.trim(), z.minLength(1), z.maxLength(100)),
    email: z.email().check(z.maxLength(254)),
    relationship: Relationship,
    scope: ProxyScope,
    until: z.optional(IsoDateTime),
  })
  .check(z.meta({
    id: 'ProxyInvite',
    description: 'Who the proxy is, where the link goes, and what they may do until when (`until`: their access ends then by itself).',
  })))();
export type ProxyInvite = z.infer<typeof ProxyInvite>;

/** 201: the PIN is answered once, to whoever invited (staff hand it over, a patient passes it on); it is never emailed. */
export const ProxyInvited = /* @__PURE__ */ (() => z
  .object({
    proxyId: ProxyId,
    pin: z.string(),
    expiresAt: IsoDateTime,
    delivery: z.enum(['Sent', 'Failed']),
  })
  .check(z.meta({ id: 'ProxyInvited' })))();
export type ProxyInvited = z.infer<typeof ProxyInvited>;

export const ProxyItem = /* @__PURE__ */ (() => z
  .object({
    proxyId: ProxyId,
    name: z.string(),
    relationship: z.string(),
    scope: ProxyScope,
    until: z.optional(IsoDateTime),
    status: ProxyStatus,
    accountId: z.optional(z.string()),
    invitedAt: IsoDateTime,
    /** Invited: when the link stops working. */
    expiresAt: z.optional(IsoDateTime),
    acceptedAt: z.optional(IsoDateTime),
    /** Ended: when (by a person, or `until` passing). */
    endedAt: z.optional(IsoDateTime),
  })
  .check(z.meta({
    id: 'ProxyItem',
    description: 'One proxy of a record. "Ended" also once `until` has passed; an "Invited" proxy whose link expired or locked stays "Invited" until ended or invited again.',
  })))();
export type ProxyItem = z.infer<typeof ProxyItem>;

export const ProxyList = /* @__PURE__ */ (() => z.object({ items: z.array(ProxyItem) }).check(z.meta({ id: 'ProxyList' })))();
export type ProxyList = z.infer<typeof ProxyList>;

export const StaffProxyParams = /* @__PURE__ */ (() => z.strictObject({ patientId: PatientId, proxyId: ProxyId }))();
export const AccountProxyParams = /* @__PURE__ */ (() => z.strictObject({ proxyId: ProxyId }))();
export const AccountRecordParams = /* @__PURE__ */ (() => z.strictObject({ patientId: PatientId }))();

/** One record a login reaches, as GET /account lists it and GET /account/records/{patientId} opens it. */
export const AccountRecord = /* @__PURE__ */ (() => z
  .object({
    patientId: PatientId,
    role: z.enum(['self', 'proxy']),
    relationship: z.optional(z.string()),
    scope: ProxyScope,
    until: z.optional(IsoDateTime),
    /** Empty for a "limited" proxy. */
    cases: z.array(z.string()),
    proxyId: z.optional(ProxyId),
  })
  .check(z.meta({
    id: 'AccountRecord',
    description: 'A record this login may act on now: its own ("self", scope "full") or as a proxy (the grant\'s relationship, scope and until).',
  })))();
export type AccountRecord = z.infer<typeof AccountRecord>;

/** GET /account. `username` and `cases` are the login's own record's (none for a proxy without a record of their own). */
export const AccountView = /* @__PURE__ */ (() => z
  .object({
    accountId: z.string(),
    username: z.string(),
    email: z.optional(z.string()),
    cases: z.array(z.string()),
    records: z.array(AccountRecord),
  })
  .check(z.meta({ id: 'AccountView' })))();
export type AccountView = z.infer<typeof AccountView>;

/** Existing login proved in POST /registrations (a proxy invitation adds the record to it). */
export const ExistingLogin = /* @__PURE__ */ (() => z.strictObject({
  username: z.string().check(z.trim(), z.minLength(1), z.maxLength(128)),
  password: z.string().check(z.minLength(1), z.maxLength(1024)),
}))();
export type ExistingLogin = z.infer<typeof ExistingLogin>;

export const ProxyEnded = ProxyItem;
