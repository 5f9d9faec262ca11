import { z } from 'zod';
import { Cursor, IsoDateTime, Limit } from './common.ts';

export const AuditEntry = z
  .object({
    at: IsoDateTime,
    actor: z.string(),
    action: z.string(),
    detail: z.record(z.string(), z.unknown()).meta({ description: 'What changed: field names and outcomes, never PHI values' }),
  })
  .meta({ id: 'AuditEntry' });
export type AuditEntry = z.infer<typeof AuditEntry>;

export const AuditQuery = z.strictObject({ cursor: Cursor.optional(), limit: Limit });
export const AuditPage = z
  .object({ items: z.array(AuditEntry), cursor: Cursor.optional() })
  .meta({ id: 'AuditPage' });
