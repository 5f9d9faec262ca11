import { defineHandler } from '../../http/standalone-handler.ts';
import { pageRoutes } from '../../../lib/routes/pages.ts';
import { pageHeaders } from '../../pages/headers.ts';
import { renderConsolePage } from '../../pages/console.ts';

// The page holds no data (its API calls carry the staff token), so it is rendered once per cold start.
let rendered: string | undefined;

export const handler = defineHandler(pageRoutes, 'console-page', async () => {
  rendered ??= renderConsolePage();
  return { status: 200, text: rendered, headers: { ...pageHeaders } };
});
