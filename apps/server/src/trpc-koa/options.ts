// The adapter's options: tRPC's own handler options (onError, responseMeta, batching, …) plus the Koa context.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AnyTRPCRouter, inferRouterContext } from '@trpc/server';
import type { HTTPBaseHandlerOptions, TRPCRequestInfo } from '@trpc/server/http';
import type { Context as KoaContext } from 'koa';

/** What `createContext` receives: tRPC's node-http arguments (`req`, `res`, `info`) and the Koa context. */
export interface KoaCreateContextOptions {
  ctx: KoaContext;
  req: IncomingMessage;
  res: ServerResponse;
  info: TRPCRequestInfo;
}

export interface KoaTRPCOptions<TRouter extends AnyTRPCRouter> extends HTTPBaseHandlerOptions<
  TRouter,
  IncomingMessage
> {
  ctx: KoaContext;
  /** The procedure path as the URL has it after the mount's prefix: `account.me`, or `a,b` for a batch. */
  path: string;
  createContext: (
    opts: KoaCreateContextOptions,
  ) => inferRouterContext<TRouter> | Promise<inferRouterContext<TRouter>>;
  /**
   * Request bodies over this many bytes make every call that reads its input fail with PAYLOAD_TOO_LARGE, as in
   * tRPC's handler; 0 or unset: no limit.
   */
  maxBodySize?: number;
}
