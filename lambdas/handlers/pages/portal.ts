import { defineHandler } from '../../http/public-handler.ts';
import { pageHeaders } from '../../pages/headers.ts';
import { isPortalPage, renderNotFoundPage, renderPortalPage } from '../../pages/portal.ts';

// Pages hold no data, so each is rendered once per cold start. A link's token sits after `#`,
// which never reaches a server (rule 26); a query is ignored here, never read or echoed.
const rendered = new Map<string, string>();

export const handler = defineHandler('portal-page', async ({ params }) => {
  if (!isPortalPage(params.page)) return { status: 404, text: renderNotFoundPage(), headers: { ...pageHeaders } };
  let text = rendered.get(params.page);
  if (text === undefined) {
    text = renderPortalPage(params.page);
    rendered.set(params.page, text);
  }
  return { status: 200, text, headers: { ...pageHeaders } };
});
