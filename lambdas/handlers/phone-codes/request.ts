import { recordStore, settingsDefaults, signInThrottle, systemClock } from '../../adapters/deps.ts';
import { configuredPhoneCodeKey, dynamoPhoneCodes } from '../../adapters/phone-codes.ts';
import { endUserMessagingSms, smsAvailability } from '../../adapters/sms-sender.ts';
import { realTime, withEqualTime } from '../../domain/equal-time.ts';
import { PHONE_CODE_FLOOR_MS, phoneCodeRequestedMessage, requestPhoneCode, type PhoneCodeStore } from '../../domain/phone-codes.ts';
import { defineHandler } from '../../http/public-handler.ts';
import { phoneCodeRoutes } from '../../../lib/routes/phone-codes.ts';
import { invitationLinks } from '../invitations/deps.ts';

// Made on the first request, like every other store (adapters/deps.ts): at load it would build a
// DynamoDB client in init, which the bench's init time (issue 16) counts and no other function pays.
let codes: PhoneCodeStore | undefined;
const phoneCodeStore = () => (codes ??= dynamoPhoneCodes());

/** POST /invitations/phone-code: one 202 body, after the same floor, whatever happened (rules 13, 33). */
export const handler = defineHandler(phoneCodeRoutes, 'phone-code-request', async ({ body, sourceIp, log }) => {
  const key = configuredPhoneCodeKey();
  const availability = key ? smsAvailability() : { configured: false };
  await withEqualTime(
    realTime(PHONE_CODE_FLOOR_MS, { grid: true }),
    () =>
      requestPhoneCode(
        {
          store: recordStore(),
          invitations: invitationLinks(),
          throttle: signInThrottle(),
          settingsDefaults: settingsDefaults(),
          codes: phoneCodeStore(),
          key: key ?? { mac: async () => '' },
          sms: endUserMessagingSms(),
          availability,
          clock: systemClock,
        },
        body.token,
        sourceIp,
      ),
    // Names and numbers only: never the number, the code or whether this link had a phone.
    ({ workMs, floorMs }) => log.info('phone code request work', { workMs, floorMs }),
  );
  return { status: 202, body: { message: phoneCodeRequestedMessage } };
});
