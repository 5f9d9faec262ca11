/**
 * Telling the practice when there is work for staff (issue 19 item 3): where settings.notifyEmail
 * is set, one short message to that inbox when a self-registration request waits for approval and
 * when any patient finishes registering (invitation, email-match or self-registration link, the
 * new-password step after a staff temporary password).
 *
 * No PHI, ever: the message names no patient, no record, no address, no date of birth; it says
 * only that there is something to look at in the console. A notice that fails to send never fails
 * or undoes what it tells of: the failure is logged with names only (rule 20) and forgotten.
 */
import { practiceNoticeEmail, type PracticeNoticeKind } from '../mail/templates.ts';
import type { Mailer } from './invitations.ts';
import type { RecordStore } from './ports.ts';
import { readSettings, type SettingsDefaults } from './settings.ts';

export type { PracticeNoticeKind };

export interface PracticeNoticeDeps {
  store: Pick<RecordStore, 'getSettings'>;
  settingsDefaults: SettingsDefaults;
  mailer: Mailer;
  /** Names and numbers only, never an address. */
  warn?: (msg: string, fields: Record<string, string | number>) => void;
}

/** Sends the notice where the practice asked for them; never throws. */
export async function notifyPractice(deps: PracticeNoticeDeps, kind: PracticeNoticeKind): Promise<void> {
  try {
    const { settings } = await readSettings({ store: deps.store as RecordStore, defaults: deps.settingsDefaults });
    if (!settings.notifyEmail) return;
    await deps.mailer.send({ to: settings.notifyEmail, ...practiceNoticeEmail({ practiceName: settings.practiceName, kind, consoleUrl: consoleLink(settings.portalUrl) }) });
  } catch (err) {
    deps.warn?.('practice notice not sent', { notice: kind, errorName: err instanceof Error ? err.name : 'unknown' });
  }
}

export const consoleLink = (portalUrl: string): string => `${portalUrl.replace(/\/+$/, '')}/console`;
