// Prometheus metrics, one registry per app instance so tests can run several servers in one process.
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
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
  const cookieRejected = new Counter({
    name: 'lending_cookie_rejected_total',
    help: 'Cookies treated as absent, by cookie name and reason',
    labelNames: ['cookie', 'reason'] as const,
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

  return {
    registry,
    s3KeysSource: (source) => s3KeysSource.inc({ source }),
    cookieRejected: (cookie, reason) => cookieRejected.inc({ cookie, reason }),
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
