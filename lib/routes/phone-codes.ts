/**
 * Phone codes (issue 17; domain: lambdas/domain/phone-codes.ts): the patient asks for a code
 * texted to the phone on file, then registers with it in place of the PIN (POST /registrations,
 * lib/routes/registration.ts). The texting function may update the invitation's link state only
 * (its code and send times: 'phoneCode:claim'), compute the code's keyed hash
 * ('phoneCodeKey:mac') and text from the deployment's origination identity ('sms:send').
 */
import { PhoneCodeRequest } from '../../lambdas/schemas/phone-code.ts';
import { route, schemaOf, type Route } from './types.ts';

export const phoneCodeRoutes = [
  route({
    id: 'phone-code-request',
    method: 'POST',
    path: '/invitations/phone-code',
    entry: 'lambdas/handlers/phone-codes/request.ts',
    caller: 'public',
    grants: ['records:read', 'throttle:readwrite', 'audit:append', 'phoneCode:claim', 'phoneCodeKey:mac', 'sms:send'],
    summary:
      "Text a 6-digit code to the record's phone, to type instead of the PIN: where settings.phoneCodes is on, the deployment has SMS and the record an E.164 phone. Valid 10 minutes, at most 3 texts an hour per invitation, a newer code replaces the earlier one. 202 with one body and about the same time whatever happened (no phone, dead link, limit)",
    request: { body: PhoneCodeRequest },
    responses: { 202: schemaOf('phone-code', 'PhoneCodeRequested') },
  }),
] as const satisfies readonly Route[];
