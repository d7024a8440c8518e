// Runs the calls of a request this adapter serves: the context, then every call through tRPC's
// `callTRPCProcedure`, concurrently, each failure reported to `onError` as tRPC's handler reports it.
import type { IncomingMessage } from 'node:http';
import { callTRPCProcedure, getTRPCErrorFromUnknown } from '@trpc/server';
import type { AnyTRPCRouter, TRPCError, inferRouterContext } from '@trpc/server';
import { createURL } from '@trpc/server/adapters/node-http';
import type { TRPCRequestInfo } from '@trpc/server/http';
import type { KoaTRPCOptions } from './options';
import type { Call, Inputs, ReadRequest } from './request';

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

const connectionSignals = new WeakMap<object, AbortSignal>();

/**
 * Aborts when the client's connection closes (tRPC's `info.signal` and procedure `signal`: it aborts when the
 * client leaves before the answer is written). One per connection rather than per request: an AbortController
 * costs as much as a quarter of the adapter's own work, and HTTP/1.1 answers a connection's requests one by one.
 */
function connectionSignal(req: IncomingMessage): AbortSignal {
  const socket = req.socket as IncomingMessage['socket'] | undefined;
  let signal = socket && connectionSignals.get(socket);
  if (signal === undefined) {
    const controller = new AbortController();
    if (socket) {
      socket.once('close', () => controller.abort());
      connectionSignals.set(socket, controller.signal);
    }
    signal = controller.signal;
  }
  return signal;
}

/**
 * What tRPC's content handler reads from the request; its memoised input reader's `result()` (the input onError
 * and the error formatter see) shows a call's input once some call has read the inputs. tRPC reads them lazily, so
 * in a batch a call failing while another call's read is still in flight may not see it yet; here the body is in
 * hand before any call runs.
 */
class RequestInfo implements TRPCRequestInfo {
  readonly accept = null;
  readonly connectionParams = null;
  readonly calls: TRPCRequestInfo['calls'];
  private inputsRead = false;
  private parsedUrl: URL | undefined;

  constructor(
    readonly type: NativeRequest['type'],
    readonly isBatchCall: boolean,
    calls: Call[],
    private readonly inputs: Inputs,
    readonly signal: AbortSignal,
    private readonly req: IncomingMessage,
  ) {
    this.calls = calls.map(({ batchIndex, path, procedure }) => ({
      batchIndex,
      path,
      procedure,
      getRawInput: () => this.rawInput(batchIndex),
      result: () => this.input(batchIndex),
    }));
  }

  get url(): URL {
    return (this.parsedUrl ??= createURL(this.req));
  }

  private rawInput(index: number): Promise<unknown> {
    if ('error' in this.inputs) return Promise.reject(this.inputs.error);
    this.inputsRead = true;
    return Promise.resolve(this.inputs.record[index]);
  }

  private input(index: number): unknown {
    return this.inputsRead && 'record' in this.inputs ? this.inputs.record[index] : undefined;
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

/** One call through tRPC's `callTRPCProcedure`; a failure is reported to `onError` as tRPC's handler does. */
async function runCall<TRouter extends AnyTRPCRouter>(
  opts: KoaTRPCOptions<TRouter>,
  { path, getRawInput, batchIndex, result }: TRPCRequestInfo['calls'][number],
  type: NativeRequest['type'],
  signal: AbortSignal,
  context: inferRouterContext<TRouter> | undefined,
  contextError: TRPCError | undefined,
): Promise<Result> {
  try {
    if (contextError) throw contextError;
    const data: unknown = await callTRPCProcedure({
      router: opts.router,
      path,
      getRawInput,
      ctx: context,
      type,
      signal,
      batchIndex,
    });
    return { ok: true, data };
  } catch (cause) {
    const error = getTRPCErrorFromUnknown(cause);
    opts.onError?.({ error, path, input: result(), ctx: context, type, req: opts.ctx.req });
    return { ok: false, error };
  }
}

export async function run<TRouter extends AnyTRPCRouter>(
  opts: KoaTRPCOptions<TRouter>,
  request: NativeRequest,
): Promise<Exchange<TRouter>> {
  const { req, res } = opts.ctx;
  const { type } = request;
  res.statusCode = 200; // Koa starts at 404; a status a procedure sets on `res` (not 200) wins, as in tRPC
  const signal = connectionSignal(req);
  const info = new RequestInfo(type, request.isBatchCall, request.calls, request.inputs, signal, req);

  let context: inferRouterContext<TRouter> | undefined;
  let contextError: TRPCError | undefined;
  try {
    const made = opts.createContext({ ctx: opts.ctx, req, res, info });
    context = isThenable(made) ? await made : made;
  } catch (cause) {
    contextError = getTRPCErrorFromUnknown(cause);
  }

  const settle = (call: TRPCRequestInfo['calls'][number]) =>
    runCall(opts, call, type, signal, context, contextError);
  const { calls } = info;
  const results: Result[] =
    calls.length === 1 ? [await settle(calls[0]!)] : await Promise.all(calls.map(settle));
  return { type, info, context, results };
}
