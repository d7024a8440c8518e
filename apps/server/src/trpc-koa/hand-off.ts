// tRPC's own node-http handler behind the adapter's options: what the adapter hands every request it does not
// serve itself to, unchanged.
import type { IncomingMessage } from 'node:http';
import type { AnyTRPCRouter } from '@trpc/server';
import { nodeHTTPRequestHandler } from '@trpc/server/adapters/node-http';
import type { KoaTRPCOptions } from './options';

/**
 * Serves the request with tRPC's `nodeHTTPRequestHandler`. `body`: the POST body the adapter has already read,
 * given to tRPC as a pre-read body (its adapters' convention for body parsers), so it sees the same bytes.
 */
export async function handleWithNodeHTTP<TRouter extends AnyTRPCRouter>(
  opts: KoaTRPCOptions<TRouter>,
  body?: string,
): Promise<void> {
  const { ctx, createContext, ...handlerOptions } = opts;
  const { req, res } = ctx;
  if (body !== undefined) (req as IncomingMessage & { body?: unknown }).body = body;
  ctx.respond = false; // tRPC writes the response itself
  res.statusCode = 200; // Koa starts at 404, and tRPC only sets its status over a 200
  // tRPC's handler settles when the response has been written; a client that leaves first ends the wait too.
  const closed = new Promise<void>((resolve) => res.once('close', resolve));
  await Promise.race([
    nodeHTTPRequestHandler({
      ...handlerOptions,
      req,
      res,
      createContext: (inner) => createContext({ ...inner, ctx }),
    }),
    closed,
  ]);
}
