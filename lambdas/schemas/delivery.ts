/**
 * SES's email sending events as the configuration set publishes them (the same record reaches
 * EventBridge as `detail`, SNS as the message): only the fields we read. Anything else SES adds
 * passes through unread; a record without them is not ours and is ignored.
 * https://docs.aws.amazon.com/ses/latest/dg/event-publishing-retrieving-sns-contents.html
 */
import * as z from 'zod/mini';

const Timestamp = /* @__PURE__ */ (() => z.string().check(z.refine((v) => !Number.isNaN(Date.parse(v)), 'must be a time')))();

export const SesEventRecord = /* @__PURE__ */ (() => z.object({
  eventType: z.string().check(z.maxLength(64)),
  mail: z.object({
    timestamp: Timestamp,
    messageId: z.string().check(z.maxLength(256)),
    /** Message tags, each a list of values (SES adds its own `ses:*` tags beside ours). */
    tags: z.optional(z.record(z.string(), z.array(z.string().check(z.maxLength(256))))),
  }),
  bounce: z.optional(z.object({ bounceType: z.optional(z.string()), bounceSubType: z.optional(z.string()), timestamp: Timestamp })),
  complaint: z.optional(z.object({ timestamp: Timestamp })),
  delivery: z.optional(z.object({ timestamp: Timestamp })),
  reject: z.optional(z.object({})),
  failure: z.optional(z.object({})),
}))();
export type SesEventRecord = z.infer<typeof SesEventRecord>;

/** The EventBridge event SES puts on the default bus (source `aws.ses`). */
export const SesEventBridgeEvent = /* @__PURE__ */ (() => z.object({
  source: z.literal('aws.ses'),
  'detail-type': z.string().check(z.maxLength(128)),
  detail: SesEventRecord,
}))();
export type SesEventBridgeEvent = z.infer<typeof SesEventBridgeEvent>;
