/**
 * SES delivery events (EventBridge, source aws.ses, from the configuration set) onto the record
 * the email was about: lambdas/domain/delivery.ts. Not an HTTP route. An event that is not ours
 * or not one we track is dropped; a store failure throws, so EventBridge/Lambda retry it (safe:
 * the same event twice is a no-op). Logs carry the outcome and status, never an address.
 */
import { randomUUID } from 'node:crypto';
import { recordStore, systemClock } from '../../adapters/deps.ts';
import { readSesEvent, recordDelivery, type DeliveryOutcome } from '../../domain/delivery.ts';
import { createLogger } from '../../http/logger.ts';
import { SesEventBridgeEvent } from '../../schemas/delivery.ts';

export const handler = async (event: unknown): Promise<{ outcome: DeliveryOutcome | 'ignored' }> => {
  const id = (event as { id?: unknown } | null)?.id;
  const log = createLogger({ requestId: typeof id === 'string' ? id.slice(0, 64) : randomUUID(), function: 'delivery-events' });
  const parsed = SesEventBridgeEvent.safeParse(event);
  const delivery = parsed.success ? readSesEvent(parsed.data.detail) : undefined;
  if (!delivery) {
    log.info('delivery event ignored', { parsed: parsed.success });
    return { outcome: 'ignored' };
  }
  const outcome = await recordDelivery({ store: recordStore(), clock: systemClock }, delivery);
  log.info('delivery event', { outcome, status: delivery.status, purpose: delivery.purpose });
  return { outcome };
};
