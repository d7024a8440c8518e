// The archive.org client as the configuration describes it: each service's URL, the service keys and the lending
// API's token, the timeout and the concurrency limit.
import { ArchiveClient } from '@lending/accounts';
import type { ArchiveObserver } from '@lending/accounts';
import type { ServerConfig } from './env';

/** `observer` is told of every exchange (the server's archive.org latency metric). */
export function archiveClientFor(config: ServerConfig, observer?: ArchiveObserver): ArchiveClient {
  const archive = config.archive;
  return new ArchiveClient({
    baseUrl: archive.url,
    serviceAccess: archive.serviceAccess,
    serviceSecret: archive.serviceSecret,
    timeoutMs: archive.timeoutMs,
    loanApiToken: archive.loanApiToken,
    endpoints: archive.endpoints,
    observer,
    catalogueTtlMs: archive.cacheSeconds * 1000,
    availabilityTtlMs: archive.cacheSeconds * 1000,
    limits: {
      maxConcurrent: archive.maxConcurrent,
      maxQueue: archive.maxQueue,
      queueTimeoutMs: archive.timeoutMs,
    },
  });
}
