/**
 * The answers' schemas behind `schemaOf(module, name)` (lib/routes/types.ts): the route table
 * names them so that no Lambda bundle builds them; the OpenAPI document (and whatever else runs
 * in node: tests, the local server, synth) resolves them here. No function bundles this module.
 */
import type * as z from 'zod/mini';
import type { SchemaModules, SchemaRef } from '../../lib/routes/types.ts';
import * as accountSignIns from '../schemas/account-sign-ins.ts';
import * as audit from '../schemas/audit.ts';
import * as common from '../schemas/common.ts';
import * as delivery from '../schemas/delivery.ts';
import * as diagnosis from '../schemas/diagnosis.ts';
import * as emailMatch from '../schemas/email-match.ts';
import * as invitation from '../schemas/invitation.ts';
import * as lobby from '../schemas/lobby.ts';
import * as patient from '../schemas/patient.ts';
import * as phoneCode from '../schemas/phone-code.ts';
import * as portalRecord from '../schemas/portal-record.ts';
import * as proxy from '../schemas/proxy.ts';
import * as reset from '../schemas/reset.ts';
import * as selfRegistration from '../schemas/self-registration.ts';
import * as session from '../schemas/session.ts';
import * as settings from '../schemas/settings.ts';
import * as staffAdmin from '../schemas/staff-admin.ts';
import * as staff from '../schemas/staff.ts';

// Typed by SchemaModules: a module added there and not here fails `tsc`.
const modules: SchemaModules = {
  'account-sign-ins': accountSignIns,
  audit,
  common,
  delivery,
  diagnosis,
  'email-match': emailMatch,
  invitation,
  lobby,
  patient,
  'phone-code': phoneCode,
  'portal-record': portalRecord,
  proxy,
  reset,
  'self-registration': selfRegistration,
  session,
  settings,
  'staff-admin': staffAdmin,
  staff,
};

const isRef = (s: z.ZodMiniType | SchemaRef): s is SchemaRef => !('_zod' in s);

/** The schema of a declared answer: itself, or the export a `schemaOf` names. */
export function responseSchema(declared: z.ZodMiniType | SchemaRef): z.ZodMiniType {
  if (!isRef(declared)) return declared;
  const schema = (modules[declared.module] as Record<string, unknown> | undefined)?.[declared.name];
  if (!schema || typeof schema !== 'object' || !('_zod' in schema)) throw new Error(`schemaOf('${declared.module}', '${declared.name}') names no schema`);
  return schema as z.ZodMiniType;
}
