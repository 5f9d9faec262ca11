import { defineHandler } from '../../http/standalone-handler.ts';
import { pageRoutes } from '../../../lib/routes/pages.ts';
import { HttpProblem } from '../../http/problems.ts';
import { loadAssets } from '../../pages/assets.ts';

// Built once per cold start: only names in this map are ever served.
const assets = loadAssets();

export const handler = defineHandler(pageRoutes, 'page-asset', async ({ params }) => {
  const asset = assets.get(params.file);
  if (!asset) throw new HttpProblem(404, 'not-found', 'Not Found', 'There is no such file.');
  return {
    status: 200,
    text: asset.text,
    headers: {
      'content-type': asset.contentType,
      'cache-control': 'public, max-age=300',
      'x-content-type-options': 'nosniff',
    },
  };
});
