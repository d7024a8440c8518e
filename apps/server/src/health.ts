// The probes an orchestrator and a balancer ask, never cached:
// - GET /livez: the process answers (no I/O at all).
// - GET /readyz: the database answers and the server is not shutting down; 503 otherwise. It turns 503 the moment
//   SIGTERM arrives, before the listener closes, so that the balancer stops sending. archive.org is not asked:
//   its outage must not take every instance out of the balancer at once.
// - GET /healthz: the detailed report (database up, busy or down; archive.org up or down; the pool's counts);
//   503 only when the instance is not ready, so archive.org being down shows in the body, not in the status.
import type { AccountStore, ArchiveClient, DatabaseHealth, PoolStats } from '@lending/accounts';
import type { Context, Middleware } from 'koa';
import { withTimeout } from './store-guard';

const HEALTH_TIMEOUT_MS = 3000;

/** What the probes need to know of the server's own state. */
export interface Readiness {
  /** True from SIGTERM on. */
  draining: boolean;
}

/** A store that can tell a full pool from a dead database (the PostgreSQL one). */
interface ProbedStore {
  health(timeoutMs: number): Promise<DatabaseHealth>;
  poolStats(): PoolStats;
}

export function isProbedStore(store: unknown): store is ProbedStore {
  return (
    typeof (store as Partial<ProbedStore> | null)?.health === 'function' &&
    typeof (store as Partial<ProbedStore> | null)?.poolStats === 'function'
  );
}

async function probe(check: () => Promise<void>): Promise<'up' | 'down'> {
  try {
    await withTimeout(check(), HEALTH_TIMEOUT_MS, 'health check timed out');
    return 'up';
  } catch {
    return 'down';
  }
}

/** The database's state, from the opened store: its own probe when it has one, else a ping. */
async function databaseHealth(opening: Promise<AccountStore>): Promise<DatabaseHealth> {
  let store: AccountStore;
  try {
    store = await withTimeout(opening, HEALTH_TIMEOUT_MS, 'store not open');
  } catch {
    return 'down';
  }
  if (isProbedStore(store)) return store.health(HEALTH_TIMEOUT_MS).catch(() => 'down' as const);
  return probe(() => store.ping());
}

function answer(ctx: Context, status: number, body: Record<string, unknown>): void {
  ctx.status = status;
  ctx.set('Cache-Control', 'no-store');
  ctx.body = body;
}

const PROBES = new Set(['/livez', '/readyz', '/healthz']);

export function healthCheck(options: {
  opening: Promise<AccountStore>;
  archive: ArchiveClient;
  readiness: Readiness;
}): Middleware {
  const { opening, archive, readiness } = options;
  const answerProbe = async (ctx: Context): Promise<void> => {
    if (ctx.path === '/livez') return answer(ctx, 200, { ok: true });
    if (ctx.path === '/readyz') {
      if (readiness.draining) return answer(ctx, 503, { ready: false, reason: 'shutting_down' });
      const database = await databaseHealth(opening);
      const ready = database !== 'down';
      return answer(ctx, ready ? 200 : 503, ready ? { ready, database } : { ready, reason: 'database_down' });
    }
    const [database, archiveOrg] = await Promise.all([databaseHealth(opening), probe(() => archive.ping())]);
    const ready = database !== 'down' && !readiness.draining;
    const store = await opening.catch(() => null);
    const body: Record<string, unknown> = {
      ok: ready && database === 'up' && archiveOrg === 'up',
      ready,
      database,
      archive: archiveOrg,
    };
    if (readiness.draining) body.draining = true;
    if (isProbedStore(store)) body.pool = store.poolStats();
    answer(ctx, ready ? 200 : 503, body);
  };
  // Every other request passes straight through, without an async frame of its own.
  return (ctx, next) =>
    PROBES.has(ctx.path) && (ctx.method === 'GET' || ctx.method === 'HEAD') ? answerProbe(ctx) : next();
}
