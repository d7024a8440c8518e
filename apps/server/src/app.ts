// The HTTP host: a factory that tests start on port 0 and main.ts starts from the environment. It builds the
// procedures' dependencies from the config and composes the middleware, each in its own module, in order.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { openAccountStore, parseDatabaseUrl } from '@lending/accounts';
import type { AccountStore, ArchiveClient } from '@lending/accounts';
import { checkSessionCookie } from '@lending/api';
import type { ApiDeps } from '@lending/api';
import { cookieKeys } from '@lending/crypto';
import Koa from 'koa';
import type { DestinationStream, Logger } from 'pino';
import { anonymousLimit } from './anonymous-limit';
import { resolveClientIp } from './client-ip';
import { archiveClientFor } from './archive';
import { deferredStore } from './deferred-store';
import { postgresTuning } from './env';
import type { ServerConfig } from './env';
import { errorBoundary, logResponseErrors } from './error-boundary';
import { apiGuards, securityHeaders } from './guards';
import { healthCheck, isProbedStore } from './health';
import type { Readiness } from './health';
import { createLoginLimiter } from './limiter';
import type { LoginLimits } from './limiter';
import { InsuredLimitStore, MemoryLimitStore, PostgresLimitStore, RedisLimitStore } from './limit-store';
import type { LimitStore } from './limit-store';
import { createLogger } from './logger';
import { listenMetrics } from './metrics-listener';
import type { MetricsListener } from './metrics-listener';
import { createMetrics, serveMetrics } from './metrics';
import type { ServerMetrics } from './metrics';
import { logRequests } from './request-log';
import { serveSpa } from './static';
import { ARCHIVE_CALLS_PER_REQUEST } from './work-bounds';
import { guardStore } from './store-guard';
import { trpcMount } from './trpc';
import type { TRPCAdapter } from './trpc';

export type { ServerConfig } from './env';
export { ConfigError, loadEnv, postgresTuning } from './env';

export interface AppOverrides {
  /** An open store; the caller keeps ownership. Default: opened from config.databaseUrl and closed by close(). */
  store?: AccountStore;
  archive?: ArchiveClient;
  /** Where the JSON log lines go (default stdout). */
  logStream?: DestinationStream;
  logger?: Logger;
  loginLimits?: Partial<LoginLimits>;
  /** Where the login limits keep their counters; the caller keeps ownership. Default: from the config. */
  limitStore?: LimitStore;
  /** Request body cap in bytes (default 16 KiB). */
  bodyLimit?: number;
  /** Milliseconds a shared limit-store call may take before the insurance store answers (default 500). */
  limitStoreTimeoutMs?: number;
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
  /** Stops accepting, and resolves once in-flight requests are done, cutting them after `graceMs` (10 s). */
  close(graceMs?: number): Promise<void>;
}

export interface LendingApp {
  app: Koa;
  logger: Logger;
  metrics: ServerMetrics;
  /** Where the login limits live (Redis, PostgreSQL, memory), with its insurance when shared. */
  limitStore: LimitStore;
  /** Resolves to the open store (rejects when it cannot be opened). */
  store(): Promise<AccountStore>;
  listen(port?: number, host?: string): Promise<Listening>;
  /** The METRICS_PORT listener, once listen() has started it; null without METRICS_PORT. */
  metricsListener(): MetricsListener | null;
  /** From now on /readyz answers 503, so that balancers stop sending; requests are still served. */
  beginShutdown(): void;
  /**
   * Stops every listener (draining in-flight requests, cut after `graceMs`, default 10 s), then closes the store if
   * this app opened it.
   */
  close(graceMs?: number): Promise<void>;
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

/**
 * The login limits' store: Redis with REDIS_URL, else the PostgreSQL database when the accounts are there, else
 * memory. A shared one comes with an in-memory insurance store, a warning line and metrics when it fails.
 */
function openLimitStore(
  config: ServerConfig,
  databaseKind: 'sqlite' | 'postgres',
  logger: Logger,
  metrics: ServerMetrics,
  overrides: AppOverrides,
  storeOpening: Promise<unknown>,
): LimitStore {
  let shared: LimitStore;
  if (config.redis) {
    shared = new RedisLimitStore({
      url: config.redis.url,
      prefix: config.redis.prefix,
      commandTimeoutMs: overrides.limitStoreTimeoutMs,
    });
  } else if (databaseKind === 'postgres') {
    const target = parseDatabaseUrl(config.databaseUrl);
    if (target.kind !== 'postgres') return new MemoryLimitStore();
    shared = new PostgresLimitStore({
      connectionString: target.connectionString,
      schema: target.schema,
      after: storeOpening,
      queryTimeoutMs: overrides.limitStoreTimeoutMs,
    });
  } else {
    return new MemoryLimitStore();
  }
  metrics.limiterDegraded(shared.kind, false);
  return new InsuredLimitStore(
    shared,
    {
      degraded: (store, error) => {
        metrics.limiterDegraded(store, true);
        // The message only: a connection error may name the host, never a password (none is in it).
        logger.warn(
          { store, error: error.message },
          `login limits: the ${store} store failed; each instance now limits on its own in-memory counters`,
        );
      },
      recovered: (store) => {
        metrics.limiterDegraded(store, false);
        logger.info({ store }, `login limits: the ${store} store answers again; limits are shared again`);
      },
      failure: (store) => metrics.limiterStoreFailure(store),
    },
    overrides.limitStoreTimeoutMs,
  );
}

/** The procedures' dependencies, from the config and the parts the host built (the benchmark builds them too). */
export function apiDeps(
  config: ServerConfig,
  parts: Pick<ApiDeps, 'store' | 'archive' | 'metrics' | 'loginLimiter' | 'now'>,
): ApiDeps {
  const { now, ...rest } = parts;
  return {
    ...rest,
    // At most this many archive.org calls per request, whatever its calls (archive_busy past it).
    archiveCallsPerRequest: ARCHIVE_CALLS_PER_REQUEST,
    archiveLinks: config.archiveLinks,
    cookieKeys: cookieKeys(config.appSecret, config.appSecretPrevious),
    sessionTtl: config.sessionTtl,
    s3CookieFormat: config.s3CookieFormat,
    s3CookieInteropUntil: config.s3CookieInteropUntil,
    rememberIdleTtl: config.rememberIdleTtl,
    rememberMaxTtl: config.rememberMaxTtl,
    ...(now ? { now } : {}),
  };
}

export function createApp(config: ServerConfig, overrides: AppOverrides = {}): LendingApp {
  const production = config.nodeEnv === 'production';
  const logger = overrides.logger ?? createLogger(config, overrides.logStream);
  const metrics = createMetrics();
  const ownsStore = overrides.store === undefined;
  const opening = overrides.store
    ? Promise.resolve(overrides.store)
    : openAccountStore(config.databaseUrl, postgresTuning(config));
  opening.then(
    (opened) => {
      if (isProbedStore(opened)) metrics.watchPool(() => opened.poolStats());
    },
    () => undefined, // surfaced by listen() and store(); never an unhandled rejection
  );
  const kind = parseDatabaseUrl(config.databaseUrl).kind;
  const store = guardStore(overrides.store ?? deferredStore(kind, opening));
  const archive =
    overrides.archive ??
    archiveClientFor(config, (endpoint, outcome, seconds) => metrics.archiveCall(endpoint, outcome, seconds));
  const ownsLimitStore = overrides.limitStore === undefined;
  const limitStore =
    overrides.limitStore ?? openLimitStore(config, kind, logger, metrics, overrides, opening);
  const deps = apiDeps(config, {
    store,
    archive,
    metrics,
    loginLimiter: createLoginLimiter(overrides.loginLimits, {
      store: limitStore,
      secret: config.appSecret,
      events: { decision: (k, decision, reason) => metrics.limiterDecision('login', k, decision, reason) },
    }),
    now: overrides.now,
  });
  const bodyLimit = overrides.bodyLimit ?? 16 * 1024;

  const app = new Koa({ proxy: config.trustProxy });
  logResponseErrors(app, logger);

  // The client address first: only configured proxies are believed (PROXY_HOPS, TRUSTED_PROXIES).
  app.use(resolveClientIp(config.proxyTrust));
  app.use(logRequests({ logger, metrics }));
  app.use(errorBoundary());
  app.use(securityHeaders({ production, imagesOrigin: config.archiveLinks.imagesUrl }));
  const readiness: Readiness = { draining: false };
  app.use(healthCheck({ opening, archive, readiness }));
  // In production /metrics stays off the public listener unless a token guards it; with METRICS_PORT it is
  // served on that listener only.
  const metricsToken = config.metrics.token;
  const publicMetrics = config.metrics.port === undefined && (!production || metricsToken !== undefined);
  app.use(serveMetrics(metrics, { serve: publicMetrics, token: metricsToken }));
  // /trpc: anonymous traffic per network, CSRF guard and body cap, then tRPC itself.
  app.use(
    anonymousLimit({
      prefix: '/trpc',
      ...config.anonymousLimit,
      checkSession: (token, now) => checkSessionCookie(deps, token, now),
      ...(deps.now ? { now: deps.now } : {}),
      decision: (decision) =>
        metrics.limiterDecision('anonymous', 'call', decision, decision === 'refused' ? 'network' : 'none'),
    }),
  );
  app.use(apiGuards({ prefix: '/trpc', bodyLimit }));
  app.use(trpcMount({ deps, production, maxBodySize: bodyLimit, adapter: overrides.trpcAdapter, metrics }));
  // The SPA, when built (checked per request, so a build made after start is served too).
  app.use(serveSpa(config.webDist));

  const listeners = new Set<Listening>();
  let metricsListening: Promise<MetricsListener> | null = null;
  let metricsListener: MetricsListener | null = null;

  return {
    app,
    logger,
    metrics,
    limitStore,
    store: () => opening,
    metricsListener: () => metricsListener,
    beginShutdown() {
      readiness.draining = true;
    },
    async listen(port = config.port, host = config.host) {
      await opening;
      if (config.metrics.port !== undefined && !metricsListening) {
        const { port: metricsPort, host: metricsHost } = config.metrics;
        metricsListening = listenMetrics(metrics, {
          port: metricsPort,
          host: metricsHost,
          token: metricsToken,
        });
        metricsListener = await metricsListening;
      }
      // A shared limit store gets a moment to connect; if it cannot, the insurance store answers meanwhile.
      let waited: NodeJS.Timeout | undefined;
      const limitsReady = await Promise.race([
        limitStore.ready().then(
          () => true,
          () => false,
        ),
        new Promise<boolean>((resolve) => (waited = setTimeout(() => resolve(false), 2000))),
      ]);
      clearTimeout(waited);
      if (!limitsReady) {
        logger.warn(
          { store: limitStore.kind },
          `login limits: the ${limitStore.kind} store does not answer at start; each instance limits on its own in-memory counters until it does`,
        );
      }
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
        close: async (graceMs?: number) => {
          listeners.delete(listening);
          await closeServer(server, graceMs);
        },
      };
      listeners.add(listening);
      return listening;
    },
    async close(graceMs) {
      readiness.draining = true;
      await Promise.all([...listeners].map((l) => l.close(graceMs)));
      const metricsServer = await metricsListening?.catch(() => null);
      await metricsServer?.close();
      if (ownsLimitStore) await limitStore.close();
      if (ownsStore) {
        const opened = await opening.catch(() => null);
        await opened?.close();
      }
    },
  };
}
