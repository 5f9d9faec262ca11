import * as z from 'zod/mini';
import { Cursor, IsoDateTime, Limit } from './common.ts';

export const AuditEntry = /* @__PURE__ */ (() => z
  .object({
    at: IsoDateTime,
    actor: z.string(),
    action: z.string(),
    detail: z.record(z.string(), z.unknown()).check(z.meta({ description: 'What changed: field names and outcomes, never PHI values' })),
  })
  .check(z.meta({ id: 'AuditEntry' })))();
export type AuditEntry = z.infer<typeof AuditEntry>;

export const AuditQuery = /* @__PURE__ */ (() => z.strictObject({ cursor: z.optional(Cursor), limit: Limit }))();
export const AuditPage = /* @__PURE__ */ (() => z
  .object({ items: z.array(AuditEntry), cursor: z.optional(Cursor) })
  .check(z.meta({ id: 'AuditPage' })))();
