// The tRPC mount: a short Koa middleware over the Koa-native tRPC adapter (./trpc-koa). Procedures get the Koa context's
// cookies through a CookieJar, so several Set-Cookie headers stay separate (tRPC's fetch adapter merges them).
import { AppError } from '@lending/accounts';
import { appRouter, createContext, isLoggedError } from '@lending/api';
import type { ApiDeps, RequestInfo } from '@lending/api';
import type { TRPCError } from '@trpc/server';
import { getHTTPStatusCodeFromError } from '@trpc/server/http';
import type { Context, Middleware } from 'koa';
import type { Logger } from 'pino';
import { canSetSecureCookies, cookieJar } from './cookies';
import { sendError } from './http-error';
import { apiLogger } from './logger';
import { isDatabaseOutage } from './store-guard';
import { handleKoaTRPCRequest, handleWithNodeHTTP } from './trpc-koa';

export const TRPC_PREFIX = '/trpc/';

const LOGIN_PROCEDURES = new Set(['auth.login', 'auth.loginWithKeys']);

// Domain errors whose HTTP status the host fixes, whatever tRPC code the procedure used.
const STATUS_BY_APP_CODE: Partial<Record<string, number>> = { archive_unavailable: 503, rate_limited: 429 };

/** The stable app code carried by an error or one of its causes. */
export function appCodeOf(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    if (e instanceof AppError) return e.code;
    const appCode = (e as { appCode?: unknown }).appCode;
    if (typeof appCode === 'string') return appCode;
  }
  return undefined;
}

export function statusOf(error: TRPCError): number {
  if (isDatabaseOutage(error)) return 503;
  const code = appCodeOf(error);
  return (code && STATUS_BY_APP_CODE[code]) || getHTTPStatusCodeFromError(error);
}

/**
 * One log line for a procedure that failed: an error for a fault, a warning for an outage, info for a refusal.
 * Nothing for a failure the procedure has logged itself (with the cause's stack): one fault, one line.
 */
function logProcedureError(
  log: Logger,
  { error, path: procedure, type }: { error: TRPCError; path?: string; type: string },
): void {
  if (isLoggedError(error)) return;
  const status = statusOf(error);
  const fields = { procedure, type, status, code: error.code, appCode: appCodeOf(error) };
  // statusOf gives a database outage 503, so a 503 is an outage (database or archive.org), not a fault.
  if (status >= 500 && status !== 503) log.error({ ...fields, err: error }, 'procedure failed');
  else if (status >= 500)
    log.warn({ ...fields, cause: String(error.cause?.message ?? '') }, 'dependency unavailable');
  else log.info(fields, 'procedure refused');
}

export function requestLog(ctx: Context): Logger {
  return ctx.state.log as Logger;
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
        'Sign-in needs HTTPS. Serve this site over TLS, or set TRUST_PROXY=true behind a TLS proxy that sends X-Forwarded-Proto.',
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
      onError: (failure) => logProcedureError(log, failure),
      responseMeta({ errors, paths }) {
        if (errors.length === 0) return {};
        const statuses = new Set(errors.map(statusOf));
        // A batch with successes keeps tRPC's 207; a single call, or calls failing alike, get their status.
        if (statuses.size !== 1 || errors.length !== (paths?.length ?? 1)) return {};
        return { status: [...statuses][0] };
      },
    });
  };
}
