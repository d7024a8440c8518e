// A Koa-native tRPC adapter: serves tRPC's HTTP protocol for JSON queries and mutations (single and batched)
// without tRPC's per-request fetch Request/Response objects, and hands every other request to tRPC's own
// node-http handler. Same options as that handler (onError, responseMeta, maxBodySize, batching), same answers.
import type { AnyTRPCRouter } from '@trpc/server';
import { writeAnswer } from './answer';
import { handleWithNodeHTTP } from './hand-off';
import type { KoaTRPCOptions } from './options';
import { readRequest } from './request';
import { run } from './run';

export type { KoaCreateContextOptions, KoaTRPCOptions } from './options';
export { handleWithNodeHTTP };
export { findProcedure } from './router';

/** Answers one tRPC request on `ctx`, natively when it can and through tRPC's own handler otherwise. */
export async function handleKoaTRPCRequest<TRouter extends AnyTRPCRouter>(
  opts: KoaTRPCOptions<TRouter>,
): Promise<void> {
  const read = readRequest(opts);
  const request = read instanceof Promise ? await read : read; // a GET needs no wait
  if (request.kind === 'hand-off') return handleWithNodeHTTP(opts, request.body);
  if (request.kind === 'closed') {
    opts.ctx.status = 499; // tRPC's CLIENT_CLOSED_REQUEST: nobody is left to answer
    return;
  }
  writeAnswer(opts, await run(opts, request));
}
