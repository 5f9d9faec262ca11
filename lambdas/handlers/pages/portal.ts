import { recordStore, settingsDefaults } from '../../adapters/deps.ts';
import { readSettings } from '../../domain/settings.ts';
import { defineHandler } from '../../http/public-handler.ts';
import { pageRoutes } from '../../../lib/routes/pages.ts';
import { pageHeaders } from '../../pages/headers.ts';
import { defaultPortalOptions, isPortalPage, pagesWithOptions, renderNotFoundPage, renderPortalPage, type PortalOptions } from '../../pages/portal.ts';

// Pages hold no data, so each is rendered once per cold start (and per set of options). A link's token sits after `#`,
// which never reaches a server (rule 26); a query is ignored here, never read or echoed.
const rendered = new Map<string, string>();

/** The settings that change a page (issue 15 item 6): read on each view, so a change shows at once. */
async function portalOptions(): Promise<PortalOptions> {
  const { settings } = await readSettings({ store: recordStore(), defaults: settingsDefaults() });
  return { emailMatch: settings.emailMatch, patientReset: settings.patientReset, selfRegistration: settings.selfRegistration };
}

export const handler = defineHandler(pageRoutes, 'portal-page', async ({ params }) => {
  if (!isPortalPage(params.page)) return { status: 404, text: renderNotFoundPage(), headers: { ...pageHeaders } };
  const o = pagesWithOptions.includes(params.page) ? await portalOptions() : defaultPortalOptions;
  const key = `${params.page}:${o.emailMatch}:${o.patientReset}:${o.selfRegistration}`;
  let text = rendered.get(key);
  if (text === undefined) {
    text = renderPortalPage(params.page, o);
    rendered.set(key, text);
  }
  return { status: 200, text, headers: { ...pageHeaders } };
});
