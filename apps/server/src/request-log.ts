// A request id on every request, and one log line and one duration observation per request. The line has the
// path only: a query string could carry anything.
import { randomUUID } from 'node:crypto';
import type { Context, Middleware } from 'koa';
import type { Logger } from 'pino';
import type { ServerMetrics } from './metrics';

/** The metrics label for a path: a fixed set, so that no client can mint new series by requesting made-up paths. */
export function routeGroup(path: string): 'trpc' | 'healthz' | 'livez' | 'readyz' | 'metrics' | 'spa' {
  if (path.startsWith('/trpc/')) return 'trpc';
  if (path === '/healthz') return 'healthz';
  if (path === '/livez') return 'livez';
  if (path === '/readyz') return 'readyz';
  if (path === '/metrics') return 'metrics';
  return 'spa';
}

/** This request's logger: every line it writes carries the request id. */
export function requestLog(ctx: Context): Logger {
  return ctx.state.log as Logger;
}

/** Takes the client's X-Request-Id when it is a plain token, else makes one; echoes it in the response. */
export function logRequests(options: { logger: Logger; metrics: ServerMetrics }): Middleware {
  const { logger, metrics } = options;
  return async (ctx, next) => {
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
  };
}
