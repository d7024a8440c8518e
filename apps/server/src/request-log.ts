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

/** What logRequests keeps on a request: its id, and its logger once something asks for it. */
interface RequestLogState {
  reqId: string;
  root: Logger;
  log?: Logger;
}

const STATE = Symbol('request log');

/**
 * This request's logger: every line it writes carries the request id. Made on first use: most requests write
 * only their `request completed` line, which the root logger writes with the same fields.
 */
export function requestLog(ctx: Context): Logger {
  const state = (ctx.state as Record<symbol, RequestLogState>)[STATE]!;
  return (state.log ??= state.root.child({ reqId: state.reqId }));
}

/** Takes the client's X-Request-Id when it is a plain token, else makes one; echoes it in the response. */
export function logRequests(options: { logger: Logger; metrics: ServerMetrics }): Middleware {
  const { logger, metrics } = options;
  const completed = (ctx: Context, state: RequestLogState, started: bigint): void => {
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const path = ctx.path;
    metrics.httpRequest(routeGroup(path), ctx.method, ctx.status, seconds);
    const fields = {
      req: { method: ctx.method, url: path, remoteAddress: ctx.ip },
      res: { statusCode: ctx.status },
      responseTime: Math.round(seconds * 1e4) / 10,
    };
    // The same line either way: a child's bindings come right after the root's base, where `reqId` goes here.
    if (state.log) state.log.info(fields, 'request completed');
    else logger.info({ reqId: state.reqId, ...fields }, 'request completed');
  };
  // Without an async frame: the line is written when the rest of the chain settles, either way.
  return (ctx, next) => {
    const started = process.hrtime.bigint();
    const incoming = ctx.get('X-Request-Id');
    const reqId = /^[\w.:-]{1,64}$/.test(incoming) ? incoming : randomUUID();
    const state: RequestLogState = { reqId, root: logger };
    (ctx.state as Record<symbol, RequestLogState>)[STATE] = state;
    ctx.set('X-Request-Id', reqId);
    return next().then(
      () => completed(ctx, state, started),
      (error: unknown) => {
        completed(ctx, state, started);
        throw error;
      },
    );
  };
}
