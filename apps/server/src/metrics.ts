// Prometheus metrics, one registry per app instance so tests can run several servers in one process. Every label
// takes its values from a fixed set (HTTP methods, route groups, the router's procedures, the archive client's
// endpoints), so that no client can mint new series.
import { createHash, timingSafeEqual } from 'node:crypto';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { PoolStats } from '@lending/accounts';
import type { ApiMetrics } from '@lending/api';
import type { Context, Middleware } from 'koa';

export interface ServerMetrics extends ApiMetrics {
  registry: Registry;
  httpRequest(route: string, method: string, status: number, seconds: number): void;
  /** One tRPC call, `procedure` already bounded by the router (see `procedureLabel`). */
  procedureCall(procedure: string, outcome: 'ok' | 'error', seconds: number): void;
  /** One archive.org exchange: `endpoint` is the client's name for the call, `outcome` how it ended. */
  archiveCall(endpoint: string, outcome: string, seconds: number): void;
  /** Where the pool gauges read from (the PostgreSQL store); null: no pool. */
  watchPool(read: (() => PoolStats) | null): void;
  /** A limiter's verdict: `limiter` login or anonymous; `kind` password, keys, code or call; `reason` bounded. */
  limiterDecision(limiter: string, kind: string, decision: 'allowed' | 'refused', reason: string): void;
  /** A call the shared limit store failed, answered by the in-memory insurance store instead. */
  limiterStoreFailure(store: string): void;
  /** 1 while the insurance store answers for the shared one. */
  limiterDegraded(store: string, degraded: boolean): void;
}

/** The HTTP methods a label may name; anything else is "other". */
export const METHOD_LABELS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

export function methodLabel(method: string): string {
  return METHOD_LABELS.has(method) ? method : 'other';
}

/** Labels a label may take from a caller-supplied name: a short token, and at most `limit` distinct ones. */
function boundedLabels(limit: number): (value: string) => string {
  const seen = new Set<string>();
  return (value) => {
    if (seen.has(value)) return value;
    if (!/^[a-z][\w.-]{0,63}$/i.test(value) || seen.size >= limit) return 'other';
    seen.add(value);
    return value;
  };
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
  const procedure = new Histogram({
    name: 'lending_trpc_procedure_duration_seconds',
    help: 'tRPC call duration by procedure (the router\'s names; "unknown" for any other) and outcome',
    labelNames: ['procedure', 'outcome'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const archiveCall = new Histogram({
    name: 'lending_archive_request_duration_seconds',
    help: 'archive.org call duration by endpoint and outcome (ok, http_4xx, http_5xx, redirect, timeout, error)',
    labelNames: ['endpoint', 'outcome'] as const,
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const endpointLabel = boundedLabels(32);
  const outcomeLabel = boundedLabels(16);
  let readPool: (() => PoolStats) | null = null;
  new Gauge({
    name: 'lending_db_pool_connections',
    help: 'PostgreSQL pool connections by state (total, idle, waiting: queries waiting for one; max: the pool size)',
    labelNames: ['state'] as const,
    registers: [registry],
    collect() {
      if (!readPool) return;
      const stats = readPool();
      for (const state of ['total', 'idle', 'waiting', 'max'] as const) this.set({ state }, stats[state]);
    },
  });
  const limiterDecisions = new Counter({
    name: 'lending_limiter_decisions_total',
    help: 'Limiter verdicts by limiter (login, anonymous), kind, decision and the limit that refused',
    labelNames: ['limiter', 'kind', 'decision', 'reason'] as const,
    registers: [registry],
  });
  const limiterStoreFailures = new Counter({
    name: 'lending_limiter_store_failures_total',
    help: 'Calls the shared limit store (redis, postgres) failed or timed out, answered by the in-memory insurance',
    labelNames: ['store'] as const,
    registers: [registry],
  });
  const limiterDegraded = new Gauge({
    name: 'lending_limiter_store_degraded',
    help: '1 while the shared limit store fails and each instance limits on its own in-memory counters',
    labelNames: ['store'] as const,
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
      http.observe({ route, method: methodLabel(method), status: String(status) }, seconds),
    procedureCall: (name, outcome, seconds) => procedure.observe({ procedure: name, outcome }, seconds),
    archiveCall: (endpoint, outcome, seconds) =>
      archiveCall.observe({ endpoint: endpointLabel(endpoint), outcome: outcomeLabel(outcome) }, seconds),
    watchPool: (read) => {
      readPool = read;
    },
    limiterDecision: (limiter, kind, decision, reason) =>
      limiterDecisions.inc({ limiter, kind, decision, reason }),
    limiterStoreFailure: (store) => limiterStoreFailures.inc({ store }),
    limiterDegraded: (store, degraded) => limiterDegraded.set({ store }, degraded ? 1 : 0),
  };
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/** True when the Authorization header carries `Bearer <token>` (compared in constant time). */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const match = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  return match !== null && timingSafeEqual(digest(match[1]!), digest(token));
}

export interface MetricsAccess {
  /** Whether this listener serves /metrics at all (else 404, as for any unknown path). */
  serve: boolean;
  /** When set, only `Authorization: Bearer <token>` is served; anything else gets 401. */
  token: string | undefined;
}

/** The Prometheus text, or the status to answer instead. */
export async function metricsAnswer(
  metrics: ServerMetrics,
  access: MetricsAccess,
  authorization: string | undefined,
): Promise<{ status: 200; body: string } | { status: 401 | 404 }> {
  if (!access.serve) return { status: 404 };
  if (access.token !== undefined && !bearerMatches(authorization, access.token)) return { status: 401 };
  return { status: 200, body: await metrics.registry.metrics() };
}

/** GET /metrics on the public listener, as `access` allows: the registry in Prometheus text, never cached. */
export function serveMetrics(metrics: ServerMetrics, access: MetricsAccess): Middleware {
  const serve = async (ctx: Context): Promise<void> => {
    if (!access.serve || (ctx.method !== 'GET' && ctx.method !== 'HEAD')) {
      // Never the SPA's page, and never a hint that metrics exist elsewhere.
      ctx.status = 404;
      ctx.body = 'Not Found';
      return;
    }
    ctx.set('Cache-Control', 'no-store');
    const reply = await metricsAnswer(metrics, access, ctx.get('Authorization') || undefined);
    if (reply.status !== 200) {
      ctx.status = reply.status;
      if (reply.status === 401) ctx.set('WWW-Authenticate', 'Bearer');
      ctx.body = reply.status === 401 ? 'Unauthorized' : 'Not Found';
      return;
    }
    ctx.type = metrics.registry.contentType;
    ctx.body = reply.body;
  };
  return (ctx, next) => (ctx.path === '/metrics' ? serve(ctx) : next());
}
