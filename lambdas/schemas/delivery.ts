/**
 * SES's email sending events as the configuration set publishes them (the same record reaches
 * EventBridge as `detail`, SNS as the message): only the fields we read. Anything else SES adds
 * passes through unread; a record without them is not ours and is ignored.
 * https://docs.aws.amazon.com/ses/latest/dg/event-publishing-retrieving-sns-contents.html
 */
import { z } from 'zod';

const Timestamp = z.string().refine((v) => !Number.isNaN(Date.parse(v)), 'must be a time');

export const SesEventRecord = z.object({
  eventType: z.string().max(64),
  mail: z.object({
    timestamp: Timestamp,
    messageId: z.string().max(256),
    /** Message tags, each a list of values (SES adds its own `ses:*` tags beside ours). */
    tags: z.record(z.string(), z.array(z.string().max(256))).optional(),
  }),
  bounce: z.object({ bounceType: z.string().optional(), bounceSubType: z.string().optional(), timestamp: Timestamp }).optional(),
  complaint: z.object({ timestamp: Timestamp }).optional(),
  delivery: z.object({ timestamp: Timestamp }).optional(),
  reject: z.object({}).optional(),
  failure: z.object({}).optional(),
});
export type SesEventRecord = z.infer<typeof SesEventRecord>;

/** The EventBridge event SES puts on the default bus (source `aws.ses`). */
export const SesEventBridgeEvent = z.object({
  source: z.literal('aws.ses'),
  'detail-type': z.string().max(128),
  detail: SesEventRecord,
});
export type SesEventBridgeEvent = z.infer<typeof SesEventBridgeEvent>;
