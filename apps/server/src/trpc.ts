// The tRPC mount: a short Koa middleware over the Koa-native tRPC adapter (./trpc-koa). Procedures get the Koa context's
// cookies through a CookieJar, so several Set-Cookie headers stay separate (tRPC's fetch adapter merges them).
import { appRouter, createContext, failureLog } from '@lending/api';
import type { ApiDeps, RequestInfo } from '@lending/api';
import type { TRPCError } from '@trpc/server';
import type { Context, Middleware } from 'koa';
import type { Logger } from 'pino';
import { checkedSessionCookie } from './anonymous-limit';
import { canSetSecureCookies, cookieJar } from './cookies';
import { sendError } from './http-error';
import type { ServerMetrics } from './metrics';
import { requestLog } from './request-log';
import { findProcedure, handleKoaTRPCRequest, handleWithNodeHTTP } from './trpc-koa';
import { LogBudget, MAX_BATCH_SIZE, callCount, refuseBatch } from './work-bounds';

export const TRPC_PREFIX = '/trpc/';

const LOGIN_PROCEDURES = new Set(['auth.login', 'auth.loginWithKeys']);

/** The router's procedures by name, as found so far (never more than it has: other names are not kept). */
const knownProcedures = new Set<string>();

/** A metric label for a called path: a procedure of the router by its name, anything else "unknown". */
export function procedureLabel(name: string): string {
  if (knownProcedures.has(name)) return name;
  if (!findProcedure(appRouter, name)) return 'unknown';
  knownProcedures.add(name);
  return name;
}

/** The labels of a request's calls, each once (a batch may call a procedure twice). */
function procedureLabels(path: string): Iterable<string> {
  return path.includes(',') ? new Set(path.split(',').map(procedureLabel)) : [procedureLabel(path)];
}

/**
 * The one log line of a failed call (tRPC's onError runs once per failed call): the level, codes, detail and
 * cause chain the api's failureLog gives it, with the procedure and the request id (the request logger's).
 */
function logProcedureError(
  log: LogBudget,
  { error, path: procedure, type }: { error: TRPCError; path?: string; type: string },
): void {
  const { level, message, fields } = failureLog(error);
  log.write(level, { procedure, type, ...fields }, message);
}

/** A domain error that says when to retry (archive_busy, rate_limited) sets Retry-After. */
function retryAfterOf(error: TRPCError): number | undefined {
  const cause = error.cause as { retryAfterSeconds?: unknown } | undefined;
  const seconds = cause?.retryAfterSeconds;
  return typeof seconds === 'number' && Number.isFinite(seconds) && seconds > 0
    ? Math.ceil(seconds)
    : undefined;
}

/**
 * What the api gets for one request: the cookie jar, the client address, the request's log lines (a LogBudget, which
 * the caller flushes when the request is done; `log` gives the logger, asked for only when a line is written), the
 * response headers and the `session` cookie as the anonymous limit already checked it.
 */
export function requestInfo(
  ctx: Context,
  production: boolean,
  log: () => Logger,
): RequestInfo & { log: LogBudget } {
  return {
    cookies: cookieJar(ctx, production, log),
    ip: ctx.ip,
    log: new LogBudget(log),
    setHeader: (name, value) => ctx.set(name, value),
    sessionCookie: checkedSessionCookie(ctx),
  };
}

/** Which tRPC adapter serves /trpc: this server's Koa-native one, or tRPC's own node-http handler. */
export type TRPCAdapter = 'koa' | 'node-http';

export function trpcMount(options: {
  deps: ApiDeps;
  production: boolean;
  maxBodySize: number;
  adapter?: TRPCAdapter;
  /** Where each call's duration goes (per procedure); absent: not measured. */
  metrics?: ServerMetrics;
}): Middleware {
  const { deps, production, maxBodySize, metrics } = options;
  const handle = options.adapter === 'node-http' ? handleWithNodeHTTP : handleKoaTRPCRequest;
  return async (ctx, next) => {
    if (!ctx.path.startsWith(TRPC_PREFIX)) {
      await next();
      return;
    }
    const path = ctx.path.slice(TRPC_PREFIX.length);

    // One request, bounded work: at most MAX_BATCH_SIZE calls, refused before anything runs.
    const calls = callCount(ctx, path);
    if (calls > MAX_BATCH_SIZE) {
      requestLog(ctx).info({ calls, max: MAX_BATCH_SIZE }, 'batch refused: too many calls');
      return refuseBatch(ctx, calls);
    }

    // Production over plain http cannot carry Secure cookies: say so, rather than log in without a session.
    if (
      path.includes('auth.login') &&
      !canSetSecureCookies(ctx, production) &&
      path.split(',').some((p) => LOGIN_PROCEDURES.has(p))
    ) {
      return sendError(
        ctx,
        400,
        'BAD_REQUEST',
        'Sign-in needs HTTPS. Serve this site over TLS, or set TRUST_PROXY=true behind a TLS proxy that sends X-Forwarded-Proto (and TRUSTED_PROXIES or PROXY_HOPS when the proxy is not on this host).',
      );
    }

    const info = requestInfo(ctx, production, () => requestLog(ctx));
    const lines = info.log;
    ctx.set('Cache-Control', 'no-store');

    const started = process.hrtime.bigint();
    let failed: Set<string> | undefined;
    try {
      await handle({
        ctx,
        router: appRouter,
        path,
        maxBodySize,
        createContext: () => createContext(deps, info),
        // The response status is tRPC's: each error's `data.httpStatus` (207 for a batch whose calls differ).
        onError: (failure) => {
          (failed ??= new Set()).add(procedureLabel(failure.path ?? ''));
          const retryAfter = retryAfterOf(failure.error);
          if (retryAfter !== undefined && !ctx.headerSent) ctx.set('Retry-After', String(retryAfter));
          logProcedureError(lines, failure);
        },
      });
    } finally {
      lines.flush();
      if (metrics) {
        // A batch's calls run together: each procedure in it is observed once, with the batch's duration.
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        const failedAll = ctx.status >= 400 && ctx.status !== 207;
        for (const name of procedureLabels(path)) {
          metrics.procedureCall(name, failedAll || failed?.has(name) ? 'error' : 'ok', seconds);
        }
      }
    }
  };
}
