// The tRPC mount: a short Koa middleware over the Koa-native tRPC adapter (./trpc-koa). Procedures get the Koa context's
// cookies through a CookieJar, so several Set-Cookie headers stay separate (tRPC's fetch adapter merges them).
import { appRouter, createContext, failureLog } from '@lending/api';
import type { ApiDeps, RequestInfo } from '@lending/api';
import type { TRPCError } from '@trpc/server';
import type { Middleware } from 'koa';
import type { Logger } from 'pino';
import { canSetSecureCookies, cookieJar } from './cookies';
import { sendError } from './http-error';
import { apiLogger } from './logger';
import { requestLog } from './request-log';
import { handleKoaTRPCRequest, handleWithNodeHTTP } from './trpc-koa';

export const TRPC_PREFIX = '/trpc/';

const LOGIN_PROCEDURES = new Set(['auth.login', 'auth.loginWithKeys']);

/**
 * The one log line of a failed call (tRPC's onError runs once per failed call): the level, codes, detail and
 * cause chain the api's failureLog gives it, with the procedure and the request id (the request logger's).
 */
function logProcedureError(
  log: Logger,
  { error, path: procedure, type }: { error: TRPCError; path?: string; type: string },
): void {
  const { level, message, fields } = failureLog(error);
  log[level]({ procedure, type, ...fields }, message);
}

/** Which tRPC adapter serves /trpc: this server's Koa-native one, or tRPC's own node-http handler. */
export type TRPCAdapter = 'koa' | 'node-http';

export function trpcMount(options: {
  deps: ApiDeps;
  production: boolean;
  maxBodySize: number;
  adapter?: TRPCAdapter;
}): Middleware {
  const { deps, production, maxBodySize } = options;
  const handle = options.adapter === 'node-http' ? handleWithNodeHTTP : handleKoaTRPCRequest;
  return async (ctx, next) => {
    if (!ctx.path.startsWith(TRPC_PREFIX)) {
      await next();
      return;
    }
    const path = ctx.path.slice(TRPC_PREFIX.length);
    const log = requestLog(ctx);

    // Production over plain http cannot carry Secure cookies: say so, rather than log in without a session.
    if (!canSetSecureCookies(ctx, production) && path.split(',').some((p) => LOGIN_PROCEDURES.has(p))) {
      return sendError(
        ctx,
        400,
        'BAD_REQUEST',
        'Sign-in needs HTTPS. Serve this site over TLS, or set TRUST_PROXY=true behind a TLS proxy that sends X-Forwarded-Proto (and TRUSTED_PROXIES or PROXY_HOPS when the proxy is not on this host).',
      );
    }

    const info: RequestInfo = {
      cookies: cookieJar(ctx, production, log),
      ip: ctx.ip,
      log: apiLogger(log),
      setHeader: (name, value) => ctx.set(name, value),
    };
    ctx.set('Cache-Control', 'no-store');

    await handle({
      ctx,
      router: appRouter,
      path,
      maxBodySize,
      createContext: () => createContext(deps, info),
      // The response status is tRPC's: each error's `data.httpStatus` (207 for a batch whose calls differ).
      onError: (failure) => logProcedureError(log, failure),
    });
  };
}
