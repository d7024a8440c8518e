// The tRPC mount: a short Koa middleware over tRPC's node-http handler. Procedures get the Koa context's
// cookies through a CookieJar, so several Set-Cookie headers stay separate (tRPC's fetch adapter merges them).
import { AppError } from '@lending/accounts';
import { appRouter, createContext, isLoggedError } from '@lending/api';
import type { ApiDeps, RequestInfo } from '@lending/api';
import { callTRPCProcedure, getTRPCErrorFromUnknown, getTRPCErrorShape } from '@trpc/server';
import type { TRPCError } from '@trpc/server';
import { nodeHTTPRequestHandler } from '@trpc/server/adapters/node-http';
import { getHTTPStatusCodeFromError } from '@trpc/server/http';
import type { Context, Middleware } from 'koa';
import type { Logger } from 'pino';
import { canSetSecureCookies, cookieJar } from './cookies';
import { sendError } from './http-error';
import { apiLogger } from './logger';
import { isDatabaseOutage } from './store-guard';

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

const procedureTypes = new Map<string, string | undefined>();

/** 'query', 'mutation' or 'subscription' for a procedure path such as `account.me`; undefined for no procedure. */
function procedureType(path: string): string | undefined {
  if (!procedureTypes.has(path) && procedureTypes.size < 1000) {
    let node: unknown = appRouter._def.record;
    for (const part of path.split('.')) {
      node =
        node !== null && (typeof node === 'object' || typeof node === 'function') && Object.hasOwn(node, part)
          ? (node as Record<string, unknown>)[part]
          : undefined;
    }
    const type = (node as { _def?: { procedure?: boolean; type?: unknown } } | undefined)?._def;
    procedureTypes.set(
      path,
      type?.procedure === true && typeof type.type === 'string' ? type.type : undefined,
    );
  }
  return procedureTypes.get(path);
}

/**
 * The raw input of a single GET query, or null when the request is anything else (a batch, a mutation, a
 * streaming request, unparsable input): those go through tRPC's own handler, which owns every such case.
 */
function singleQueryInput(ctx: Context, path: string): { input: unknown } | null {
  if (ctx.method !== 'GET' || procedureType(path) !== 'query') return null;
  if (ctx.querystring.includes('batch') || ctx.get('trpc-accept')) return null;
  const raw = ctx.query.input;
  if (raw === undefined) return { input: undefined };
  if (typeof raw !== 'string') return null;
  try {
    return { input: JSON.parse(raw) as unknown };
  } catch {
    return null;
  }
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

export function trpcMount(options: { deps: ApiDeps; production: boolean; maxBodySize: number }): Middleware {
  const { deps, production, maxBodySize } = options;
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

    // Fast path for the hot case, a single GET query (account.me, books.list, loans.*): the same procedure
    // call and error shape as tRPC's handler, without its per-request fetch Request/Response, AbortSignals
    // and web streams, which cost several times a whole bare Koa request on Node 20.
    const query = singleQueryInput(ctx, path);
    if (query) {
      const context = createContext(deps, info);
      try {
        const data: unknown = await callTRPCProcedure({
          router: appRouter,
          path,
          getRawInput: () => Promise.resolve(query.input),
          ctx: context,
          type: 'query',
          signal: undefined,
          batchIndex: 0,
        });
        ctx.status = 200;
        ctx.set('Content-Type', 'application/json'); // before the body, else Koa looks up a type for a string
        ctx.body = JSON.stringify({ result: { data } });
      } catch (cause) {
        const error = getTRPCErrorFromUnknown(cause);
        logProcedureError(log, { error, path, type: 'query' });
        const shape = getTRPCErrorShape({
          config: appRouter._def._config,
          error,
          type: 'query',
          path,
          input: query.input,
          ctx: context,
        });
        ctx.status = statusOf(error);
        ctx.set('Content-Type', 'application/json');
        ctx.body = JSON.stringify({ error: shape });
      }
      ctx.set('Vary', 'trpc-accept, accept');
      return;
    }

    ctx.respond = false; // tRPC writes the response itself
    ctx.res.statusCode = 200; // Koa starts at 404, and tRPC only sets its status over a 200
    await nodeHTTPRequestHandler({
      router: appRouter,
      req: ctx.req,
      res: ctx.res,
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
