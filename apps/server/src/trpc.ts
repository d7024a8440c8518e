// The tRPC mount: a short Koa middleware over tRPC's node-http handler. Procedures get the Koa context's
// cookies through a CookieJar, so several Set-Cookie headers stay separate (tRPC's fetch adapter merges them).
import { appRouter, createContext, failureLog } from '@lending/api';
import type { ApiDeps, RequestInfo } from '@lending/api';
import { callTRPCProcedure, getTRPCErrorFromUnknown, getTRPCErrorShape } from '@trpc/server';
import type { TRPCError } from '@trpc/server';
import { nodeHTTPRequestHandler } from '@trpc/server/adapters/node-http';
import type { Context, Middleware } from 'koa';
import type { Logger } from 'pino';
import { canSetSecureCookies, cookieJar } from './cookies';
import { sendError } from './http-error';
import { apiLogger } from './logger';
import { requestLog } from './request-log';

export const TRPC_PREFIX = '/trpc/';

const LOGIN_PROCEDURES = new Set(['auth.login', 'auth.loginWithKeys']);

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
        ctx.status = shape.data.httpStatus;
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
      // The response status is tRPC's: each error's `data.httpStatus` (207 for a batch whose calls differ).
      onError: (failure) => logProcedureError(log, failure),
    });
  };
}
