/** What the reset handlers hand to the domain: the real adapters, the request's logger for warnings. */
import {
  accountStore,
  mailer,
  patientLogins,
  recordStore,
  resetStore,
  settingsDefaults,
  signInThrottle,
  systemClock,
} from '../../adapters/deps.ts';
import type { ResetConfirmDeps, ResetRequestDeps } from '../../domain/resets.ts';
import type { Logger } from '../../http/logger.ts';

export const resetRequestDeps = (log: Logger): ResetRequestDeps => ({
  store: recordStore(),
  accounts: accountStore(),
  resets: resetStore(),
  mailer: mailer(),
  clock: systemClock,
  settingsDefaults: settingsDefaults(),
  warn: (msg, fields) => log.warn(msg, fields),
});

export const resetConfirmDeps = (log: Logger): ResetConfirmDeps => ({
  ...resetRequestDeps(log),
  logins: patientLogins(),
  throttle: signInThrottle(),
});
