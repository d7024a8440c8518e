// GET /healthz: whether the database and archive.org answer, each probed with a timeout. 503 when either does
// not, naming which; never cached.
import type { AccountStore, ArchiveClient } from '@lending/accounts';
import type { Middleware } from 'koa';
import { withTimeout } from './store-guard';

const HEALTH_TIMEOUT_MS = 3000;

async function probe(check: () => Promise<void>): Promise<'up' | 'down'> {
  try {
    await withTimeout(check(), HEALTH_TIMEOUT_MS, 'health check timed out');
    return 'up';
  } catch {
    return 'down';
  }
}

export function healthCheck(options: { store: AccountStore; archive: ArchiveClient }): Middleware {
  const { store, archive } = options;
  return async (ctx, next) => {
    if (ctx.path !== '/healthz' || (ctx.method !== 'GET' && ctx.method !== 'HEAD')) {
      await next();
      return;
    }
    const [database, archiveOrg] = await Promise.all([
      probe(() => store.ping()),
      probe(() => archive.ping()),
    ]);
    const ok = database === 'up' && archiveOrg === 'up';
    ctx.status = ok ? 200 : 503;
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { ok, database, archive: archiveOrg };
  };
}
