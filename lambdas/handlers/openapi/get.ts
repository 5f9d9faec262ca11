import { defineHandler } from '../../http/public-handler.ts';
import { openApiDocument } from '../../openapi/document.ts';

export const handler = defineHandler('openapi', async () => ({ status: 200, body: openApiDocument() }));
