import { defineHandler } from '../../http/standalone-handler.ts';
import { serviceRoutes } from '../../../lib/routes/service.ts';

export const handler = defineHandler(serviceRoutes, 'health', async () => ({ status: 200, body: { status: 'ok' } }));
