/** The practice notices (lambdas/domain/practice-notices.ts) with the real adapters, for handlers to call after a success. */
import { notifyPractice, type PracticeNoticeKind } from '../domain/practice-notices.ts';
import type { Logger } from '../http/logger.ts';
import { mailer, recordStore, settingsDefaults } from './deps.ts';

/** Tells the practice inbox, where one is set; never throws (a failed notice is a log line with names only). */
export const tellPractice =
  (log: Pick<Logger, 'warn'>) =>
  (kind: PracticeNoticeKind): Promise<void> =>
    notifyPractice({ store: recordStore(), settingsDefaults: settingsDefaults(), mailer: mailer(), warn: (msg, fields) => log.warn(msg, fields) }, kind);
