/**
 * The app's context values (cdk.json or `-c name=value`), checked once with clear errors.
 */
import { z } from 'zod';

const optionalText = z.string().trim().min(1).optional();

export const StackContext = z.object({
  senderEmail: z.email({ error: 'senderEmail must be an email address SES can send from, e.g. -c senderEmail=portal@practice.example' }),
  portalUrl: z.url({ protocol: /^https$/, error: 'portalUrl must be the https URL of the portal pages, e.g. -c portalUrl=https://portal.practice.example' }),
  practiceName: optionalText,
  /** Environment name: the stack is PortalAccess-<env> (PortalAccess without it). */
  env: z
    .string()
    .regex(/^[a-z][a-z0-9-]{0,15}$/, { error: 'env must be 1-16 of a-z, 0-9 and -, starting with a letter' })
    .optional(),
  alarmEmail: z.email({ error: 'alarmEmail must be an email address' }).optional(),
  reservedConcurrency: z.coerce.number().int().min(1).max(1000).optional(),
});
export type StackContext = z.infer<typeof StackContext>;

/** Domains reserved for documentation (RFC 2606): fine for a synth, never for a deploy. */
export const isExampleValue = (value: string): boolean => /(^|[.@/])example\.(com|org|net)(\/|$)/i.test(value);

export function parseStackContext(read: (name: string) => unknown): StackContext {
  const raw = Object.fromEntries(Object.keys(StackContext.shape).map((k) => [k, read(k)]).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = StackContext.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) =>
      i.code === 'invalid_type' && i.input === undefined
        ? `- ${i.path.join('.')} is required (cdk.json context or -c ${i.path.join('.')}=...)`
        : `- ${i.path.join('.')}: ${i.message}`,
    );
    throw new Error(`portal-access: invalid context:\n${lines.join('\n')}`);
  }
  return parsed.data;
}
