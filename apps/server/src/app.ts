// The HTTP host: a factory that tests start on port 0 and main.ts starts from the environment.
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ArchiveClient, openAccountStore } from '@lending/accounts';
import type { AccountStore } from '@lending/accounts';
import type { ApiDeps } from '@lending/api';
import { cookieKeys } from '@lending/crypto';
import Koa from 'koa';
import type { DestinationStream, Logger } from 'pino';
import type { ServerConfig } from './env';
import { apiGuards, securityHeaders } from './guards';
import { clientErrorCode, sendError } from './http-error';
import { DEFAULT_LOGIN_LIMITS, createLoginLimiter } from './limiter';
import type { LoginLimits } from './limiter';
import { createLogger } from './logger';
import { createMetrics } from './metrics';
import type { ServerMetrics } from './metrics';
import { serveSpa } from './static';
import { guardStore, withTimeout } from './store-guard';
import { TRPC_PREFIX, requestLog, trpcMount } from './trpc';
import type { TRPCAdapter } from './trpc';

export type { ServerConfig } from './env';
export { ConfigError, loadEnv } from './env';

export interface AppOverrides {
  /** An open store; the caller keeps ownership. Default: opened from config.databaseUrl and closed by close(). */
  store?: AccountStore;
  archive?: ArchiveClient;
  /** Where the JSON log lines go (default stdout). */
  logStream?: DestinationStream;
  logger?: Logger;
  loginLimits?: Partial<LoginLimits>;
  /** Request body cap in bytes (default 16 KiB). */
  bodyLimit?: number;
  /** Milliseconds since the epoch, for cookie ages (default Date.now). */
  now?: () => number;
  /**
   * What serves /trpc: the Koa-native adapter (default), or tRPC's own node-http handler, which the conformance
   * suite and the benchmark compare it with.
   */
  trpcAdapter?: TRPCAdapter;
}

export interface Listening {
  url: string;
  port: number;
  server: http.Server;
  close(): Promise<void>;
}

export interface LendingApp {
  app: Koa;
  logger: Logger;
  metrics: ServerMetrics;
  /** Resolves to the open store (rejects when it cannot be opened). */
  store(): Promise<AccountStore>;
  listen(port?: number, host?: string): Promise<Listening>;
  /** Stops every listener (draining in-flight requests), then closes the store if this app opened it. */
  close(): Promise<void>;
}

const HEALTH_TIMEOUT_MS = 3000;

async function probe(check: () => Promise<void>): Promise<'up' | 'down'> {
  try {
    await withTimeout(check(), HEALTH_TIMEOUT_MS, 'health check timed out');
    return 'up';
  } catch {
    return 'down';
  }
}

/** Stops accepting connections and resolves once in-flight requests have finished (or after `graceMs`). */
export function closeServer(server: http.Server, graceMs = 10_000): Promise<void> {
  return new Promise((resolve) => {
    const force = setTimeout(() => server.closeAllConnections(), graceMs);
    server.close(() => {
      clearTimeout(force);
      resolve();
    });
    server.closeIdleConnections();
  });
}

/** A store that may still be opening: every call waits for it, then goes straight to it once it is open. */
function deferredStore(kind: AccountStore['kind'], opening: Promise<AccountStore>): AccountStore {
  let open: AccountStore | null = null;
  opening.then(
    (store) => (open = store),
    () => undefined,
  );
  const methods = new Map<PropertyKey, (...args: unknown[]) => unknown>();
  return new Proxy({} as AccountStore, {
    get(_target, property) {
      if (property === 'kind') return kind;
      if (property === 'then') return undefined; // not a thenable
      let method = methods.get(property);
      if (method === undefined) {
        const call = (store: AccountStore, args: unknown[]) =>
          (Reflect.get(store, property) as (...a: unknown[]) => unknown).apply(store, args);
        method = (...args: unknown[]) =>
          open ? call(open, args) : opening.then((store) => call(store, args));
        methods.set(property, method);
      }
      return method;
    },
  });
}

/**
 * The metrics label for a path: a fixed set, so that no client can mint new series by requesting made-up paths.
 */
export function routeGroup(path: string): 'trpc' | 'healthz' | 'metrics' | 'spa' {
  if (path.startsWith(TRPC_PREFIX)) return 'trpc';
  if (path === '/healthz') return 'healthz';
  if (path === '/metrics') return 'metrics';
  return 'spa';
}

export function createApp(config: ServerConfig, overrides: AppOverrides = {}): LendingApp {
  const production = config.nodeEnv === 'production';
  const logger = overrides.logger ?? createLogger(config, overrides.logStream);
  const metrics = createMetrics();
  const ownsStore = overrides.store === undefined;
  const opening = overrides.store ? Promise.resolve(overrides.store) : openAccountStore(config.databaseUrl);
  opening.catch(() => undefined); // surfaced by listen() and store(); never an unhandled rejection
  const kind = config.databaseUrl.startsWith('sqlite:') ? 'sqlite' : 'postgres';
  const store = guardStore(overrides.store ?? deferredStore(kind, opening));
  const archive =
    overrides.archive ??
    new ArchiveClient({
      baseUrl: config.archive.url,
      serviceAccess: config.archive.serviceAccess,
      serviceSecret: config.archive.serviceSecret,
      timeoutMs: config.archive.timeoutMs,
    });
  const deps: ApiDeps = {
    store,
    archive,
    keys: cookieKeys(config.appSecret, config.appSecretPrevious),
    sessionTtl: config.sessionTtl,
    s3CookieFormat: config.s3CookieFormat,
    loginLimiter: createLoginLimiter({ ...DEFAULT_LOGIN_LIMITS, ...overrides.loginLimits }),
    metrics,
    ...(overrides.now ? { now: overrides.now } : {}),
  };
  const bodyLimit = overrides.bodyLimit ?? 16 * 1024;

  const app = new Koa({ proxy: config.trustProxy });
  // Behind one trusted proxy, the client address is the last X-Forwarded-For entry (the one it appended).
  app.maxIpsCount = config.trustProxy ? 1 : 0;
  app.on('error', (err: unknown) => {
    const code = (err as { code?: unknown }).code;
    // A client that hangs up mid-response is routine, not a server problem.
    if (code === 'ERR_STREAM_PREMATURE_CLOSE' || code === 'ECONNRESET' || code === 'EPIPE') {
      logger.debug({ code }, 'client closed the connection');
    } else {
      logger.warn({ err }, 'response error');
    }
  });

  // 1. Request id and one log line per request (path only: a query string could carry anything).
  app.use(async (ctx, next) => {
    const started = process.hrtime.bigint();
    const incoming = ctx.get('X-Request-Id');
    const reqId = /^[\w.:-]{1,64}$/.test(incoming) ? incoming : randomUUID();
    ctx.state.log = logger.child({ reqId });
    ctx.set('X-Request-Id', reqId);
    try {
      await next();
    } finally {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const path = ctx.path;
      metrics.httpRequest(routeGroup(path), ctx.method, ctx.status, seconds);
      requestLog(ctx).info(
        {
          req: { method: ctx.method, url: path, remoteAddress: ctx.ip },
          res: { statusCode: ctx.status },
          responseTime: Math.round(seconds * 1e4) / 10,
        },
        'request completed',
      );
    }
  });

  // 2. Error boundary: client mistakes get their 4xx; anything else a generic 500, logged, never a stack.
  app.use(async (ctx, next) => {
    try {
      await next();
    } catch (err) {
      const status = (err as { status?: unknown }).status;
      const expose = (err as { expose?: unknown }).expose === true;
      if (typeof status === 'number' && status >= 400 && status < 500) {
        const message = expose ? (err as Error).message : 'Bad request';
        return sendError(ctx, status, clientErrorCode(status), message);
      }
      requestLog(ctx).error({ err }, 'unhandled error');
      if (ctx.headerSent || !ctx.writable) return;
      sendError(ctx, 500, 'INTERNAL_SERVER_ERROR', 'Internal server error');
    }
  });

  // 3. Security headers on every response.
  app.use(securityHeaders({ production }));

  // 4. Health and metrics.
  app.use(async (ctx, next) => {
    if (ctx.path === '/healthz' && (ctx.method === 'GET' || ctx.method === 'HEAD')) {
      const [database, archiveOrg] = await Promise.all([
        probe(() => store.ping()),
        probe(() => archive.ping()),
      ]);
      const ok = database === 'up' && archiveOrg === 'up';
      ctx.status = ok ? 200 : 503;
      ctx.set('Cache-Control', 'no-store');
      ctx.body = { ok, database, archive: archiveOrg };
      return;
    }
    if (ctx.path === '/metrics' && ctx.method === 'GET') {
      ctx.type = metrics.registry.contentType;
      ctx.set('Cache-Control', 'no-store');
      ctx.body = await metrics.registry.metrics();
      return;
    }
    await next();
  });

  // 5. /trpc: CSRF guard, body cap, then tRPC itself.
  app.use(apiGuards({ prefix: '/trpc', bodyLimit }));
  app.use(trpcMount({ deps, production, maxBodySize: bodyLimit, adapter: overrides.trpcAdapter }));

  // 6. The SPA, when built (checked per request, so a build made after start is served too).
  app.use(serveSpa(config.webDist));

  const listeners = new Set<Listening>();

  return {
    app,
    logger,
    metrics,
    store: () => opening,
    async listen(port = config.port, host = config.host) {
      await opening;
      const handle = app.callback();
      const server = http.createServer((req, res) => void handle(req, res));
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve();
        });
      });
      const actual = (server.address() as AddressInfo).port;
      const listening: Listening = {
        url: `http://${host.includes(':') ? `[${host}]` : host}:${actual}`,
        port: actual,
        server,
        close: async () => {
          listeners.delete(listening);
          await closeServer(server);
        },
      };
      listeners.add(listening);
      return listening;
    },
    async close() {
      await Promise.all([...listeners].map((l) => l.close()));
      if (ownsStore) {
        const opened = await opening.catch(() => null);
        await opened?.close();
      }
    },
  };
}
