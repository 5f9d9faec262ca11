/** What the self-registration handlers hand to the domain (lambdas/domain/self-registration.ts). */
import { emailMatchStore, mailer, recordStore, settingsDefaults, signInThrottle, systemClock } from '../../adapters/deps.ts';
import { selfRegistrationStore } from '../../adapters/dynamo-self-registrations.ts';
import type { SelfRegistrationDeps } from '../../domain/self-registration.ts';
import type { Logger } from '../../http/logger.ts';

export const selfRegistrationDeps = (log: Logger): SelfRegistrationDeps & { matches: ReturnType<typeof emailMatchStore> } => ({
  store: recordStore(),
  requests: selfRegistrationStore(),
  matches: emailMatchStore(),
  throttle: signInThrottle(),
  mailer: mailer(),
  clock: systemClock,
  settingsDefaults: settingsDefaults(),
  warn: (msg, fields) => log.warn(msg, fields),
});
