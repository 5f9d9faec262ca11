/**
 * The app's context values (cdk.json or `-c name=value`), checked once with clear errors. The
 * README's deploy runbook lists each with its default; keep the two in step (`contextDefaults`).
 */
import * as z from 'zod/mini';
import en from 'zod/v4/locales/en.js';
import { originProblem } from '../../lambdas/http/cors.ts';

// zod/mini loads no locale by itself: English messages for anything without its own.
z.config(en());

const optionalText = z.optional(z.string().check(z.trim(), z.minLength(1)));
const hostname = z
  .string()
  .check(z.trim(), z.toLowerCase(), z.regex(/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/, { error: 'must be a DNS name such as portal.practice.org' }));
/**
 * The staff web client's origins (api.md, CORS): `-c staffOrigins=https://a,https://b` or a JSON
 * array in cdk.json. Each is checked as lambdas/http/cors.ts checks it (https, http only on
 * localhost/127.0.0.1, a bare origin, never `*`), every bad entry named.
 */
const staffOrigins = z.pipe(
  z.union([z.string(), z.array(z.string())]),
  z
    .transform((v: string | string[]) => [...new Set((typeof v === 'string' ? v.split(',') : v).map((o) => o.trim()).filter((o) => o !== ''))])
    .check(
      z.superRefine((origins: string[], ctx) => {
        for (const o of origins) {
          const problem = originProblem(o);
          if (problem) ctx.addIssue({ code: 'custom', message: `staffOrigins: ${problem}, e.g. -c staffOrigins=https://ehr.practice.org`, input: o });
        }
      }),
    ),
);

const yes = z.optional(z.pipe(z.union([z.boolean(), z.enum(['true', 'false'])]), z.transform((v: boolean | 'true' | 'false') => v === true || v === 'true')));

export const StackContext = z
  .object({
    senderEmail: z.email({ error: 'senderEmail must be an email address SES can send from, e.g. -c senderEmail=portal@practice.org' }),
    /**
     * Base of every emailed link. Optional: with domainName it is https://<domainName>; with
     * neither it is the API's own URL (stage included), known only at deploy time.
     */
    portalUrl: z.optional(z.url({ protocol: /^https$/, error: 'portalUrl must be the https URL of the portal pages, e.g. -c portalUrl=https://portal.practice.org' })),
    practiceName: optionalText,
    /** Environment name: the stack is PortalAccess-<env> (PortalAccess without it) and the API stage is <env> (prod without it). */
    env: z.optional(z.string().check(z.regex(/^[a-z][a-z0-9-]{0,15}$/, { error: 'env must be 1-16 of a-z, 0-9 and -, starting with a letter' }))),
    /** Origins of the practice's staff web client that get CORS answers on the staff routes; none without it. */
    staffOrigins: z.optional(staffOrigins),
    alarmEmail: z.optional(z.email({ error: 'alarmEmail must be an email address' })),
    /** Reserved concurrency per function: none unless asked for (then checked against accountConcurrencyLimit). */
    reservedConcurrency: z.optional(z.coerce.number().check(z.int(), z.minimum(1), z.maximum(1000))),
    /** The account's Lambda concurrent-executions quota (Service Quotas, L-B99A9384); required with reservedConcurrency. */
    accountConcurrencyLimit: z.optional(z.coerce.number().check(z.int(), z.minimum(1))),
    /** Custom domain for the API and pages (an ACM certificate in the stack's region covers it). */
    domainName: z.optional(hostname),
    certificateArn: z.optional(
      z.string().check(z.regex(/^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[A-Za-z0-9-]+$/, { error: 'certificateArn must be an ACM certificate ARN' })),
    ),
    /** Route 53 public hosted zone of domainName (and of mailDomain): alias and DKIM records are created there. */
    hostedZoneId: z.optional(z.string().check(z.regex(/^Z[A-Z0-9]{1,31}$/, { error: 'hostedZoneId must be a Route 53 hosted zone id such as Z0123456789ABCDEFGHIJ' }))),
    /** Name of that hosted zone (defaults to domainName's parent). */
    hostedZoneName: z.optional(hostname),
    /** A domain identity with DKIM for SES instead of the sender address identity. */
    mailDomain: z.optional(hostname),
    /** `existing`: the SES identity is owned elsewhere (e.g. by the production stack in this account); this stack only sends from it. */
    mailIdentity: z.optional(z.enum(['create', 'existing'])),
    /** `existing`: the account's API Gateway CloudWatch role is already set (by another stack or by hand); do not create one. */
    apiGatewayAccountRole: z.optional(z.enum(['create', 'existing'])),
    /** Phone codes (issue 17): the AWS End User Messaging SMS origination identity (phone number/pool/sender id, or its ARN); without it phoneCodes cannot be turned on. */
    smsOriginationIdentity: z.optional(
      z.string().check(
        z.trim(),
        z.regex(/^(arn:aws[a-z-]*:sms-voice:[a-z0-9-]+:\d{12}:(phone-number|pool|sender-id)\/\S+|phone-[0-9a-f]{32}|pool-[0-9a-f]{32}|[A-Za-z0-9]{1,11})$/, {
          error: 'smsOriginationIdentity must be a phone number id (phone-…), a pool id (pool-…), a sender id, or one of their sms-voice ARNs',
        }),
      ),
    ),
    /** The account's monthly SMS spend limit in USD (SetTextMessageSpendLimitOverride); required with smsOriginationIdentity. */
    smsMonthlySpendLimit: z.optional(z.coerce.number().check(z.int(), z.minimum(1), z.maximum(100000))),
    /** Tests and `npm run synth` only: let example values through (see placeholderProblems). */
    allowPlaceholders: yes,
  })
  .check(
    z.superRefine((c, ctx) => {
      const issue = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message, input: c });
      if (c.reservedConcurrency !== undefined && c.accountConcurrencyLimit === undefined) {
        issue(
          'accountConcurrencyLimit',
          `reservedConcurrency=${c.reservedConcurrency} needs -c accountConcurrencyLimit=<your account's Lambda concurrent executions quota> so the stack can check it fits`,
        );
      }
      if ((c.smsOriginationIdentity === undefined) !== (c.smsMonthlySpendLimit === undefined)) {
        issue(
          c.smsOriginationIdentity ? 'smsMonthlySpendLimit' : 'smsOriginationIdentity',
          'smsOriginationIdentity and smsMonthlySpendLimit go together (phone codes text from that identity, within that monthly limit in USD)',
        );
      }
      if ((c.domainName === undefined) !== (c.certificateArn === undefined)) {
        issue(c.domainName ? 'certificateArn' : 'domainName', 'domainName and certificateArn go together (an ACM certificate in the stack region for that name)');
      }
      if (c.hostedZoneId && !c.domainName && !c.mailDomain) issue('hostedZoneId', 'hostedZoneId is used for domainName or mailDomain; give one of them');
      if (c.domainName && c.portalUrl && new URL(c.portalUrl).origin !== `https://${c.domainName}`) {
        issue('portalUrl', `portalUrl (${c.portalUrl}) and domainName (${c.domainName}) disagree: the portal is served at https://${c.domainName}; drop portalUrl or make them match`);
      }
      if (c.mailDomain) {
        const senderDomain = c.senderEmail.split('@')[1]?.toLowerCase() ?? '';
        if (senderDomain !== c.mailDomain && !senderDomain.endsWith(`.${c.mailDomain}`)) {
          issue('mailDomain', `senderEmail (${c.senderEmail}) is not at mailDomain (${c.mailDomain}): SES would refuse to send from it`);
        }
      }
    }),
  );
export type StackContext = z.infer<typeof StackContext>;

/** What each optional value means when it is not given (the README's table repeats these). */
export const contextDefaults = {
  portalUrl: 'https://<domainName>, else the API URL with its stage',
  practiceName: 'Our practice',
  env: 'none: stack PortalAccess, stage prod',
  reservedConcurrency: 'none (functions share the account pool)',
  staffOrigins: 'none: no CORS answers (a staff web client on another origin cannot call the API)',
  mailIdentity: 'create',
  apiGatewayAccountRole: 'create',
  smsOriginationIdentity: 'none: no SMS, phoneCodes cannot be turned on',
  smsMonthlySpendLimit: 'none (required with smsOriginationIdentity)',
} as const;

/**
 * Placeholder values: domains reserved for documentation and testing (RFC 2606, RFC 6761):
 * example.com/.org/.net, and the .example, .test, .invalid and .localhost top-level domains.
 * Fine for a synth in a test, never for a deploy: mail would go nowhere and links would point
 * at a host nobody runs.
 */
export const isExampleValue = (value: string): boolean =>
  /(^|[.@/])example\.(com|org|net)\.?(\/|:|$)/i.test(value) || /\.(example|test|invalid|localhost)\.?(\/|:|$)/i.test(value) || /@(example|test|invalid|localhost)$/i.test(value);

/** The context values that must be real for a deploy. */
const realValues = ['senderEmail', 'portalUrl', 'domainName', 'mailDomain', 'alarmEmail'] as const;

/** One line per placeholder value in the context, naming it; empty when every value is real. */
export function placeholderProblems(c: StackContext): string[] {
  return realValues.flatMap((name) => {
    const value = c[name];
    return value !== undefined && isExampleValue(value) ? [`${name} is a placeholder (${value}): give the real value with -c ${name}=...`] : [];
  });
}

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

/**
 * The deploy guard. `cdk deploy` and `cdk synth` run this app the same way (the CLI passes no
 * command to it), so the app cannot tell them apart; a CloudFormation rule could, but only once
 * AWS is asked. So the app refuses placeholder values unless `-c allowPlaceholders=true` is
 * given, which the tests and `npm run synth` pass and cdk.json does not: a bare `cdk deploy`
 * (with or without example values) stops here, before anything reaches AWS.
 */
export function refusePlaceholders(c: StackContext): void {
  if (c.allowPlaceholders) return;
  const problems = placeholderProblems(c);
  if (problems.length) {
    throw new Error(
      `portal-access: refusing placeholder values (a deploy would email links to a host nobody runs):\n${problems.map((p) => `- ${p}`).join('\n')}\n` +
        '(only for a synth that will never be deployed: -c allowPlaceholders=true, as `npm run synth` does)',
    );
  }
}

/**
 * Reserved concurrency takes from the account's pool and Lambda keeps 100 unreserved, so every
 * function reserving n needs functions × n + 100 ≤ the account limit, or the deploy fails half
 * way and rolls back. Checked at synth with the limit the operator states.
 */
export function checkReservedConcurrency(functionCount: number, reserved: number | undefined, accountLimit: number | undefined): void {
  if (reserved === undefined) return;
  if (accountLimit === undefined) throw new Error(`portal-access: reservedConcurrency=${reserved} needs -c accountConcurrencyLimit=<the account's Lambda concurrency quota>`);
  const needed = functionCount * reserved + 100;
  if (needed > accountLimit) {
    throw new Error(
      `portal-access: reservedConcurrency=${reserved} for ${functionCount} functions reserves ${functionCount * reserved}, and Lambda keeps 100 unreserved: ` +
        `that needs an account limit of ${needed}, but accountConcurrencyLimit=${accountLimit}. ` +
        `Lower reservedConcurrency to at most ${Math.floor((accountLimit - 100) / functionCount)}, leave it out, or raise the quota first (Service Quotas, L-B99A9384).`,
    );
  }
}
