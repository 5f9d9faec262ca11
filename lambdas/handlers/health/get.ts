import { defineHandler } from '../../http/standalone-handler.ts';

export const handler = defineHandler('health', async () => ({ status: 200, body: { status: 'ok' } }));
