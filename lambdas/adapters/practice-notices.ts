/** The practice notices (lambdas/domain/practice-notices.ts) with the real adapters, for handlers to call after a success. */
import { notifyPractice, type PracticeNoticeDeps, type PracticeNoticeKind } from '../domain/practice-notices.ts';
import type { Logger } from '../http/logger.ts';
import { mailer, recordStore, settingsDefaults } from './deps.ts';

/**
 * Tells the practice inbox, where one is set; never throws (a failed notice is a log line with
 * names only). `settings`: where the flow already read the settings item (register, issue 16),
 * the notice reads it from there instead of making a read of its own.
 */
export const tellPractice =
  (log: Pick<Logger, 'warn'>) =>
  async (kind: PracticeNoticeKind, settings?: PracticeNoticeDeps['store']): Promise<void> => {
    const warn = (msg: string, fields: Record<string, string | number>) => log.warn(msg, fields);
    let deps: PracticeNoticeDeps;
    try {
      deps = { store: settings ?? recordStore(), settingsDefaults: settingsDefaults(), mailer: mailer(), warn };
    } catch (err) {
      warn('practice notice not sent', { notice: kind, errorName: err instanceof Error ? err.name : 'unknown' });
      return;
    }
    await notifyPractice(deps, kind);
  };
