// Runs the calls of a request this adapter serves: the context, then every call through tRPC's
// `callTRPCProcedure`, concurrently, each failure reported to `onError` as tRPC's handler reports it.
import type { ServerResponse } from 'node:http';
import { callTRPCProcedure, getTRPCErrorFromUnknown } from '@trpc/server';
import type { AnyTRPCRouter, TRPCError, inferRouterContext } from '@trpc/server';
import { createURL } from '@trpc/server/adapters/node-http';
import type { TRPCRequestInfo } from '@trpc/server/http';
import type { KoaTRPCOptions } from './options';
import type { ReadRequest } from './request';

export type NativeRequest = Extract<ReadRequest, { kind: 'native' }>;
export type Result = { ok: true; data: unknown } | { ok: false; error: TRPCError };

/** A request's calls, run. */
export interface Exchange<TRouter extends AnyTRPCRouter> {
  type: NativeRequest['type'];
  info: TRPCRequestInfo;
  /** Undefined when `createContext` threw (every call then failed with its error). */
  context: inferRouterContext<TRouter> | undefined;
  results: Result[];
}

/** Aborts when the client goes away before the answer is written (tRPC's `info.signal` and procedure `signal`). */
function requestSignal(res: ServerResponse): AbortSignal {
  const controller = new AbortController();
  res.once('close', () => {
    if (!res.writableEnded) controller.abort();
  });
  return controller.signal;
}

export async function run<TRouter extends AnyTRPCRouter>(
  opts: KoaTRPCOptions<TRouter>,
  request: NativeRequest,
): Promise<Exchange<TRouter>> {
  const { ctx, router } = opts;
  const { req, res } = ctx;
  const { type, inputs } = request;
  res.statusCode = 200; // Koa starts at 404; a status a procedure sets on `res` (not 200) wins, as in tRPC

  // As tRPC's memoised input reader: `result()` (the input onError and the error formatter see) shows a call's
  // input once some call has read the inputs. tRPC reads them lazily, so in a batch a call failing while another
  // call's read is still in flight may not see it yet; here the body is in hand before any call runs.
  let inputsRead = false;
  const getRawInput = (index: number): Promise<unknown> => {
    if ('error' in inputs) return Promise.reject(inputs.error);
    inputsRead = true;
    return Promise.resolve(inputs.record[index]);
  };
  const inputAt = (index: number): unknown =>
    inputsRead && 'record' in inputs ? inputs.record[index] : undefined;

  const signal = requestSignal(res);
  let url: URL | undefined;
  const info: TRPCRequestInfo = {
    accept: null,
    type,
    isBatchCall: request.isBatchCall,
    calls: request.calls.map(({ batchIndex, path, procedure }) => ({
      batchIndex,
      path,
      procedure,
      getRawInput: () => getRawInput(batchIndex),
      result: () => inputAt(batchIndex),
    })),
    connectionParams: null,
    signal,
    get url() {
      return (url ??= createURL(req));
    },
  };

  let context: inferRouterContext<TRouter> | undefined;
  let contextError: TRPCError | undefined;
  try {
    context = await opts.createContext({ ctx, req, res, info });
  } catch (cause) {
    contextError = getTRPCErrorFromUnknown(cause);
  }

  const results = await Promise.all(
    info.calls.map(async (call): Promise<Result> => {
      try {
        if (contextError) throw contextError;
        const data: unknown = await callTRPCProcedure({
          router,
          path: call.path,
          getRawInput: call.getRawInput,
          ctx: context,
          type,
          signal,
          batchIndex: call.batchIndex,
        });
        return { ok: true, data };
      } catch (cause) {
        const error = getTRPCErrorFromUnknown(cause);
        opts.onError?.({ error, path: call.path, input: call.result(), ctx: context, type, req });
        return { ok: false, error };
      }
    }),
  );
  return { type, info, context, results };
}
