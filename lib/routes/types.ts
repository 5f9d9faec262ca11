/**
 * The shape of a route-table entry. The entries live in lib/routes/<area>.ts, one file per area
 * of the product, and lib/routes.ts joins them into the one table.
 */
import type * as z from 'zod/mini';

/** Who may call a route. `staff` includes admins. */
export type Caller = 'public' | 'staff' | 'admin' | 'patient' | 'lobby';

/**
 * What a route's function may touch. The stack turns each grant into IAM statements scoped to
 * one resource; a function gets nothing it is not granted here.
 */
export type Grant =
  | 'records:read' // GetItem/Query on the records table and its indexes
  | 'records:write' // + PutItem/UpdateItem/DeleteItem/ConditionCheckItem on the records table
  | 'audit:append' // PutItem on the audit table, never Update or Delete (security rule 19)
  | 'audit:read' // Query on the audit table
  | 'staffPool:read' // AdminGetUser on the staff pool
  | 'staffPool:list' // ListUsers, ListUsersInGroup, AdminGetUser, AdminListGroupsForUser on the staff pool: reading the staff list, changing nothing
  | 'throttle:readwrite' // GetItem/UpdateItem/DeleteItem on records-table items whose pk starts with THROTTLE#
  | 'challenge:write' // PutItem on records-table items whose pk starts with CHALLENGE# (new-password steps)
  | 'patientPool:admin' // create, set password, enable/disable, sign out and delete patient logins
  | 'patientPool:register' // create a patient login and set its password; delete it when a registration definitely failed
  | 'pinKey:encrypt' // kms:Encrypt with the PIN key (invitation PINs), encryption context purpose=invitation-pin
  | 'pinKey:decrypt' // kms:Decrypt with the PIN key, same context
  | 'mail:send' // ses:SendEmail from the stack's sender identity through its configuration set
  | 'lobby:issue' // PutItem on records-table items whose pk starts with LOBBY# (lobby passwords)
  | 'lobby:redeem' // GetItem/UpdateItem on LOBBY# items, PutItem on LOBBYSESSION# items
  | 'reset:issue' // GetItem/PutItem/DeleteItem on RESET# and RESETLINK# items only: issuing a credential reset link
  | 'patientPool:reset' // AdminSetUserPassword and AdminUserGlobalSignOut on the patient pool (reset confirm)
  | 'lobby:session' // GetItem on LOBBYSESSION# and PATIENT# items: what checking a lobby token reads
  | 'lobby:end' // DeleteItem on LOBBYSESSION# items: ending a lobby session (End, or replacing it on a retried sign-in)
  | 'emailMatch:issue' // PutItem/DeleteItem on EMAILMATCH# and EMAILMATCHLINK# items only: issuing an email-match link
  | 'staffPool:signIn' // DescribeUserPoolClient on the staff pool: the app client's secret, read at cold start (rule 34)
  | 'staffPool:admin' // create, disable/enable, sign out, regroup and reset the MFA of staff logins; list them
  | 'patientPool:signIn' // AdminInitiateAuth on the patient pool: the server-side sign-in flow (rule 34)
  | 'selfRegistration:write' // GetItem/PutItem/DeleteItem on SELFREG* items only (self-registration requests, their list entries, address claims and links)
  | 'selfRegistration:read' // GetItem/Query on SELFREG* items only: the staff list of self-registration requests
  | 'staff:session' // GetItem on STAFF# items: the staff record every staff token is checked against (rule 30)
  | 'phoneCode:claim' // UpdateItem on INVITE# items only: store a phone code's keyed hash and its send time (issue 17)
  | 'phoneCodeKey:mac' // kms:GenerateMac with the phone-code HMAC key (lib/stack/phone-code-key.ts)
  | 'lobbyKey:mac' // kms:GenerateMac with the lobby-password HMAC key (lib/stack/lobby-key.ts), once per cold start
  | 'sms:send'; // sms-voice:SendTextMessage from the deployment's origination identity only

export interface RouteRequest {
  readonly params?: z.ZodMiniType;
  readonly query?: z.ZodMiniType;
  readonly headers?: z.ZodMiniType;
  readonly body?: z.ZodMiniType;
}

export interface Route {
  /** Stable id: names the Lambda function and the handler. */
  readonly id: string;
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** API Gateway path template, e.g. /patients/{patientId}/portal. */
  readonly path: string;
  /** Handler module, relative to the repository root; it exports `handler`. */
  readonly entry: string;
  readonly caller: Caller;
  readonly grants: readonly Grant[];
  readonly summary: string;
  readonly request: RouteRequest;
  /**
   * Success answers by status code (a handler's answer is typed by them); errors are problem+json,
   * see `problems`. A named shape is given as `schemaOf(module, name)`, which types the answer and
   * the OpenAPI document without a Lambda bundle building the schema (issue 16).
   */
  readonly responses: Readonly<Record<number, z.ZodMiniType | SchemaRef | null>>;
  /**
   * Problem (RFC 9457) statuses this route's own rules answer: 409 taken, 410 dead link, 422 no
   * email… The OpenAPI document adds the ones every route of its kind may answer (400 bad input,
   * 401/403 by caller, 404 when a staff route names a thing, 409 with records:write, 413/415 with
   * a body, 429 with a throttle, 500, 503 with the database), and the integration run checks
   * every answer against it.
   */
  readonly problems?: readonly number[];
  /**
   * What a success answers, when not JSON: an HTML page, or a browser file from
   * lambdas/pages/static (which the stack then bundles beside the function).
   */
  readonly content?: 'html' | 'asset';
}

export const route = <const R extends Route>(r: R): R => r;

/**
 * The schema modules under lambdas/schemas, by file name: types only, so a route file that names
 * its answers with `schemaOf` imports none of them. lambdas/openapi/response-schemas.ts maps the
 * same names to the modules themselves (its type makes it list every one).
 */
export interface SchemaModules {
  'account-sign-ins': typeof import('../../lambdas/schemas/account-sign-ins.ts');
  audit: typeof import('../../lambdas/schemas/audit.ts');
  common: typeof import('../../lambdas/schemas/common.ts');
  delivery: typeof import('../../lambdas/schemas/delivery.ts');
  diagnosis: typeof import('../../lambdas/schemas/diagnosis.ts');
  'email-match': typeof import('../../lambdas/schemas/email-match.ts');
  invitation: typeof import('../../lambdas/schemas/invitation.ts');
  lobby: typeof import('../../lambdas/schemas/lobby.ts');
  patient: typeof import('../../lambdas/schemas/patient.ts');
  'phone-code': typeof import('../../lambdas/schemas/phone-code.ts');
  'portal-record': typeof import('../../lambdas/schemas/portal-record.ts');
  proxy: typeof import('../../lambdas/schemas/proxy.ts');
  reset: typeof import('../../lambdas/schemas/reset.ts');
  'self-registration': typeof import('../../lambdas/schemas/self-registration.ts');
  session: typeof import('../../lambdas/schemas/session.ts');
  settings: typeof import('../../lambdas/schemas/settings.ts');
  'staff-admin': typeof import('../../lambdas/schemas/staff-admin.ts');
  staff: typeof import('../../lambdas/schemas/staff.ts');
}

/** The exports of a schema module that are zod schemas. */
export type SchemaName<M extends keyof SchemaModules> = {
  [N in keyof SchemaModules[M]]: SchemaModules[M][N] extends z.ZodMiniType ? N : never;
}[keyof SchemaModules[M]] &
  string;

/** A schema named by its module and export; `S` is its type, which no value carries. */
export interface SchemaRef<S extends z.ZodMiniType = z.ZodMiniType> {
  readonly module: keyof SchemaModules;
  readonly name: string;
  /** Never set: the schema's type, for the handler's answer. */
  readonly schema?: S;
}

/**
 * A success answer's shape by name (`schemaOf('proxy', 'ProxyInvited')`): typed by the export
 * itself, so a wrong name fails `tsc`. Only the OpenAPI document needs the schema, and it is
 * generated at synth time; a handler's bundle then builds no answer schema (issue 16: each zod
 * schema costs cold-start time).
 */
export function schemaOf<M extends keyof SchemaModules, N extends SchemaName<M>>(
  module: M,
  name: N,
): SchemaRef<SchemaModules[M][N] extends z.ZodMiniType ? SchemaModules[M][N] : never> {
  return { module, name };
}
