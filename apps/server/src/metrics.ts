// Prometheus metrics, one registry per app instance so tests can run several servers in one process.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ApiMetrics } from '@lending/api';
import type { Middleware } from 'koa';

export interface ServerMetrics extends ApiMetrics {
  registry: Registry;
  httpRequest(route: string, method: string, status: number, seconds: number): void;
}

export function createMetrics(): ServerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const s3KeysSource = new Counter({
    name: 'lending_s3_keys_source_total',
    help: 'Where the S3 keys of a request came from: the s3 cookie, the legacy store record, or nowhere',
    labelNames: ['source'] as const,
    registers: [registry],
  });
  // What `pnpm purge --check` reads, across instances, over a window: when did a session last need the store's
  // keys? `no_cookie` (the session predates the s3 cookie: purging would log the patron out) is told apart from
  // `cookie_rejected` (an s3 cookie that did not open: tampered, expired, another user's; the purge changes
  // nothing for those). Timestamps rather than counters alone, so the verdict does not depend on when the process
  // started; `process_start_time_seconds` says whether the process saw the whole window.
  const storeFallback = new Counter({
    name: 'lending_s3_keys_store_fallback_total',
    help: 'Requests whose S3 keys came from the legacy store record, by why the s3 cookie did not serve them',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  const storeFallbackLast = new Gauge({
    name: 'lending_s3_keys_store_fallback_last_timestamp_seconds',
    help: 'Unix time of the last request whose S3 keys came from the store, by reason; 0: none since start',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  const keysLookupLast = new Gauge({
    name: 'lending_s3_keys_lookup_last_timestamp_seconds',
    help: 'Unix time of the last request that needed S3 keys, wherever they came from; 0: none since start',
    registers: [registry],
  });
  const cookieRejected = new Counter({
    name: 'lending_cookie_rejected_total',
    help: 'Cookies treated as absent, by cookie name and reason',
    labelNames: ['cookie', 'reason'] as const,
    registers: [registry],
  });
  const openLibraryCookie = new Counter({
    name: 'lending_s3_cookie_openlibrary_total',
    help: "Open Library-format s3 cookies used after their key was shown to be the session's: resealed into Lending's bound format (interop) or accepted as they are (S3_COOKIE_FORMAT=openlibrary)",
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const login = new Counter({
    name: 'lending_login_total',
    help: 'Login attempts by outcome',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const http = new Histogram({
    name: 'lending_http_request_duration_seconds',
    help: 'HTTP request duration by route group, method and status',
    labelNames: ['route', 'method', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  // Zero-valued series from the start, so dashboards and `purge --check` see them before the first request.
  for (const source of ['cookie', 'store', 'none']) s3KeysSource.inc({ source }, 0);
  for (const reason of ['no_cookie', 'cookie_rejected']) {
    storeFallback.inc({ reason }, 0);
    storeFallbackLast.set({ reason }, 0);
  }
  keysLookupLast.set(0);
  for (const outcome of ['resealed', 'accepted']) openLibraryCookie.inc({ outcome }, 0);

  return {
    registry,
    s3KeysSource: (source, reason) => {
      const now = Date.now() / 1000;
      s3KeysSource.inc({ source });
      keysLookupLast.set(now);
      if (reason !== null) {
        storeFallback.inc({ reason });
        storeFallbackLast.set({ reason }, now);
      }
    },
    cookieRejected: (cookie, reason) => cookieRejected.inc({ cookie, reason }),
    openLibraryCookie: (outcome) => openLibraryCookie.inc({ outcome }),
    login: (outcome) => login.inc({ outcome }),
    httpRequest: (route, method, status, seconds) =>
      http.observe({ route, method, status: String(status) }, seconds),
  };
}

/** GET /metrics: the registry in Prometheus text, never cached. */
export function serveMetrics(metrics: ServerMetrics): Middleware {
  return async (ctx, next) => {
    if (ctx.path !== '/metrics' || ctx.method !== 'GET') {
      await next();
      return;
    }
    ctx.type = metrics.registry.contentType;
    ctx.set('Cache-Control', 'no-store');
    ctx.body = await metrics.registry.metrics();
  };
}
