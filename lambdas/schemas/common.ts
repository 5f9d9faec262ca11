import * as z from 'zod/mini';

/** A patient id from the EHR: 1..64 of [A-Za-z0-9._-]. */
export const PatientId = /* @__PURE__ */ (() => z
  .string()
  .check(z.regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be 1 to 64 letters, digits, ".", "_" or "-"'), z.meta({ id: 'PatientId', example: 'P-1' })))();

/** A staff user's id: their staff-pool username. */
export const StaffId = /* @__PURE__ */ (() => z
  .string()
  .check(z.regex(/^[A-Za-z0-9._@+-]{1,128}$/, 'must be 1 to 128 letters, digits or ._@+-'), z.meta({ id: 'StaffId', example: 'frontdesk' })))();

export const IsoDateTime = /* @__PURE__ */ (() => z.iso.datetime().check(z.meta({ description: 'ISO-8601 UTC time' })))();

/** An opaque paging cursor handed back by list routes. */
export const Cursor = /* @__PURE__ */ (() => z
  .string()
  .check(z.regex(/^[A-Za-z0-9_-]{1,2048}$/, 'is not a cursor this service handed out'), z.meta({ id: 'Cursor' })))();

export const Limit = /* @__PURE__ */ (() => z._default(z.coerce.number().check(z.int(), z.minimum(1), z.maximum(100)), 25))();

/** RFC 9457 problem details: the body of every error answer. */
export const Problem = /* @__PURE__ */ (() => z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().check(z.int()),
    detail: z.optional(z.string()),
    errors: z.optional(z.array(z.object({ path: z.string(), message: z.string() }))),
  })
  .check(z.meta({ id: 'Problem' })))();
export type Problem = z.infer<typeof Problem>;
