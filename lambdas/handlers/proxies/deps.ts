/** What the proxy handlers hand to the domain (lambdas/domain/proxies.ts): the real adapters, made once per cold start. */
import { mailer, recordStore, settingsDefaults, systemClock } from '../../adapters/deps.ts';
import { dynamoProxies } from '../../adapters/dynamo-proxies.ts';
import type { ProxyDeps, ProxyStore } from '../../domain/proxies.ts';
import type { Logger } from '../../http/logger.ts';

let proxies: ProxyStore | undefined;

export const proxyStore = (): ProxyStore => (proxies ??= dynamoProxies());

export const proxyDeps = (log?: Logger): ProxyDeps => ({
  store: recordStore(),
  proxies: proxyStore(),
  mailer: mailer(),
  clock: systemClock,
  settingsDefaults: settingsDefaults(),
  ...(log ? { warn: (msg: string, fields: Record<string, string>) => log.warn(msg, fields) } : {}),
});
