// Writes tRPC's answer to a request whose calls ran, through Koa. The error shape (`getTRPCErrorShape`), the
// status (`getHTTPStatusCode` over the shapes, then `responseMeta`) and the serialisation (the router's
// transformer) are tRPC's own; this file puts them in the order tRPC's `resolveResponse` does for a JSON
// (non-streaming) request.
import { TRPCError, getTRPCErrorFromUnknown, getTRPCErrorShape, transformTRPCResponse } from '@trpc/server';
import type { AnyTRPCRootTypes, AnyTRPCRouter, TRPCRootConfig } from '@trpc/server';
import { getHTTPStatusCode } from '@trpc/server/http';
import type { ResponseMeta } from '@trpc/server/http';
import type { TRPCErrorShape, TRPCResponse } from '@trpc/server/rpc';
import type { KoaTRPCOptions } from './options';
import { routerConfig } from './router';
import type { Exchange, Result } from './run';

const VARY = 'trpc-accept, accept';
const JSON_TYPE = 'application/json';
const STREAM_REFUSED = 'Cannot use stream-like response in non-streaming request - use httpBatchStreamLink';

function isObject(value: unknown): value is Record<string, unknown> {
  return !!value && !Array.isArray(value) && typeof value === 'object';
}

function isAsyncIterable(value: unknown): boolean {
  return isObject(value) && Symbol.asyncIterator in value;
}

function isPromise(value: unknown): boolean {
  return (
    (isObject(value) || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function' &&
    typeof (value as { catch?: unknown }).catch === 'function'
  );
}

/** Data only a streaming link can carry (an async iterable, or promises in it), which tRPC refuses here. */
function isDataStream(value: unknown): boolean {
  if (!isObject(value)) return false;
  if (isAsyncIterable(value)) return true;
  // Own enumerable values, as Object.values gives them, without the array it would make on every answer.
  for (const key in value) {
    if (!Object.hasOwn(value, key)) continue;
    const item = value[key];
    if (isPromise(item) || isAsyncIterable(item)) return true;
  }
  return false;
}

function baseHeaders(): Headers {
  return new Headers([
    ['vary', VARY],
    ['content-type', JSON_TYPE],
  ]);
}

function streamRefused(): TRPCError {
  return new TRPCError({ code: 'UNSUPPORTED_MEDIA_TYPE', message: STREAM_REFUSED });
}

/** `responseMeta` headers merged into tRPC's own, as its handler merges them (arrays and Headers appended). */
function mergeMetaHeaders(headers: Headers, meta: NonNullable<ResponseMeta['headers']>): void {
  if (meta instanceof Headers) {
    for (const [key, value] of meta.entries()) headers.append(key, value);
    return;
  }
  for (const [key, value] of Object.entries(meta)) {
    if (Array.isArray(value)) for (const item of value) headers.append(key, item);
    else if (typeof value === 'string') headers.set(key, value);
  }
}

/** One answer through the transformer, as tRPC's `transformTRPCResponse` maps each item. */
function serialised(
  output: TRPCRootConfig<AnyTRPCRootTypes>['transformer']['output'],
  response: TRPCResponse,
): TRPCResponse {
  return 'error' in response
    ? { error: output.serialize(response.error) as TRPCErrorShape }
    : { result: { data: output.serialize(response.result.data) as unknown } };
}

/** A request served natively: its calls' answers, one JSON document, a status tRPC's rules give. */
class Answer<TRouter extends AnyTRPCRouter> {
  /** Only once `responseMeta` returns headers; until then Vary and Content-Type are set directly. */
  private headers: Headers | undefined;

  constructor(
    private readonly opts: KoaTRPCOptions<TRouter>,
    private readonly exchange: Exchange<TRouter>,
  ) {}

  private get config() {
    return routerConfig(this.opts.router);
  }

  shape(error: TRPCError, path: string | undefined, input: unknown): TRPCResponse {
    const { type, context } = this.exchange;
    const shape = getTRPCErrorShape({
      config: this.config,
      error,
      type,
      path,
      input,
      ctx: context,
    }) as TRPCErrorShape;
    return { error: shape };
  }

  /**
   * The answer through the router's transformer, as `transformTRPCResponse` gives it (that export copies each
   * item with a generic spread helper that costs more than the rest of this file's work together).
   */
  private serialise(untransformed: TRPCResponse | TRPCResponse[]): string {
    const { output } = this.config.transformer;
    return JSON.stringify(
      Array.isArray(untransformed)
        ? untransformed.map((response) => serialised(output, response))
        : serialised(output, untransformed),
    );
  }

  /** The status from the untransformed answer, then `responseMeta`, then the body; written once all are known. */
  write(untransformed: TRPCResponse | TRPCResponse[], errors: TRPCError[]): void {
    const { ctx, responseMeta } = this.opts;
    const { info, context, type } = this.exchange;
    // tRPC's rule: 200 when every call succeeded; otherwise its statuses decide (207 when they differ).
    let status = errors.length === 0 ? 200 : getHTTPStatusCode(untransformed);
    const meta =
      responseMeta?.({
        ctx: context,
        info,
        paths: info.calls.map((call) => call.path),
        data: Array.isArray(untransformed) ? untransformed : [untransformed],
        errors,
        eagerGeneration: false,
        type,
      }) ?? {};
    // tRPC keeps one set of headers per request: meta headers from an attempt that failed stay in it.
    if (meta.headers) mergeMetaHeaders((this.headers ??= baseHeaders()), meta.headers);
    if (meta.status) status = meta.status;
    const body = this.serialise(untransformed);

    if (this.headers) {
      for (const [key, value] of this.headers) if (key !== 'set-cookie') ctx.res.setHeader(key, value);
      const cookies = this.headers.getSetCookie();
      if (cookies.length > 0) ctx.res.setHeader('set-cookie', cookies);
    } else {
      ctx.res.setHeader('Vary', VARY);
      ctx.res.setHeader('Content-Type', JSON_TYPE); // before the body, or Koa picks a type for a string
    }
    // A status something set on `res` itself (anything but 200) wins, as in tRPC's handler.
    ctx.status = ctx.res.statusCode === 200 ? status : ctx.res.statusCode;
    ctx.body = body;
  }

  /** One call, not batched: its answer alone. */
  single(result: Result): void {
    if (result.ok && isDataStream(result.data)) throw streamRefused();
    const call = this.exchange.info.calls[0]!;
    const answer = result.ok
      ? { result: { data: result.data } }
      : this.shape(result.error, call.path, call.result());
    this.write(answer, result.ok ? [] : [result.error]);
  }

  /** A batch: an array of answers, in the calls' order. */
  batch(results: Result[]): void {
    const settled = results.map((result): Result =>
      result.ok && isDataStream(result.data) ? { ok: false, error: streamRefused() } : result,
    );
    const { calls } = this.exchange.info;
    const answers = settled.map((result, index) =>
      result.ok
        ? { result: { data: result.data } }
        : this.shape(result.error, calls[index]!.path, calls[index]!.result()),
    );
    this.write(
      answers,
      settled.flatMap((result) => (result.ok ? [] : [result.error])),
    );
  }

  /** Building the answer threw (stream-like data in a single call, a throwing formatter): one error, no path. */
  requestFailed(cause: unknown): void {
    const { onError, ctx } = this.opts;
    const { context, type } = this.exchange;
    const error = getTRPCErrorFromUnknown(cause);
    onError?.({ error, path: undefined, input: undefined, ctx: context, type, req: ctx.req });
    this.write(this.shape(error, undefined, undefined), [error]);
  }

  /** Even that threw (a `responseMeta` that throws): tRPC's last resort, the shape and its status, bare. */
  lastResort(cause: unknown): void {
    const { onError, ctx, router } = this.opts;
    const error = getTRPCErrorFromUnknown(cause);
    const shape = getTRPCErrorShape({
      config: this.config,
      error,
      type: 'unknown',
      path: undefined,
      input: undefined,
      ctx: undefined,
    }) as { data: { httpStatus: number } };
    onError?.({ error, path: undefined, input: undefined, ctx: undefined, type: 'unknown', req: ctx.req });
    ctx.respond = false;
    ctx.res.statusCode = shape.data.httpStatus;
    ctx.res.end(
      JSON.stringify(transformTRPCResponse(routerConfig(router), { error: shape } as TRPCResponse)),
    );
  }
}

export function writeAnswer<TRouter extends AnyTRPCRouter>(
  opts: KoaTRPCOptions<TRouter>,
  exchange: Exchange<TRouter>,
): void {
  const answer = new Answer(opts, exchange);
  try {
    try {
      if (exchange.info.isBatchCall) answer.batch(exchange.results);
      else answer.single(exchange.results[0]!);
    } catch (cause) {
      answer.requestFailed(cause);
    }
  } catch (cause) {
    answer.lastResort(cause);
  }
}
