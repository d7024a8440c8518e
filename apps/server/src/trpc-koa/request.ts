// Reads a request into the calls this adapter serves itself, or says to hand it to tRPC's own handler.
import type { IncomingMessage } from 'node:http';
import { TRPCError } from '@trpc/server';
import type { AnyTRPCProcedure, AnyTRPCRouter } from '@trpc/server';
import { createURL } from '@trpc/server/adapters/node-http';
import { bodyText, readBody } from './body';
import type { KoaTRPCOptions } from './options';
import { findProcedure, routerConfig } from './router';

export interface Call {
  batchIndex: number;
  path: string;
  procedure: AnyTRPCProcedure;
}

/** The calls' inputs by batch index, or the error every call that reads its input gets. */
export type Inputs = { record: Record<number, unknown> } | { error: TRPCError };

export type ReadRequest =
  | {
      kind: 'native';
      type: 'query' | 'mutation';
      isBatchCall: boolean;
      calls: Call[];
      inputs: Inputs;
    }
  /** `body`: the POST body already read, as text that encodes back to the same bytes. */
  | { kind: 'hand-off'; body?: string }
  | { kind: 'closed' };

const HAND_OFF: ReadRequest = { kind: 'hand-off' };

/** Content types and `accept` as tRPC's handler matches them (media types are case-insensitive). */
function mediaType(value: string): string {
  return (value.toLowerCase().split(';', 1)[0] ?? '').trim();
}

function wantsJsonLines(accept: string | undefined): boolean {
  return accept !== undefined && accept.split(',').some((type) => type.trim() === 'application/jsonl');
}

function isObject(value: unknown): value is Record<string, unknown> {
  return !!value && !Array.isArray(value) && typeof value === 'object';
}

const hostParses = new Map<string, boolean>();

/** Whether tRPC's handler can build the request's URL (it refuses the whole request when the Host is malformed). */
function urlParses(req: IncomingMessage): boolean {
  const host = req.headers.host ?? '';
  let ok = hostParses.get(host);
  if (ok === undefined) {
    try {
      createURL(req);
      ok = true;
    } catch {
      ok = false;
    }
    if (hostParses.size < 64) hostParses.set(host, ok);
  }
  return ok;
}

function decodedPaths(path: string, isBatchCall: boolean): string[] | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    return null;
  }
  return isBatchCall ? decoded.split(',') : [decoded];
}

/** The inputs by batch index, as tRPC's JSON content handler files them; null when it would refuse them. */
function inputRecord(
  router: AnyTRPCRouter,
  inputs: unknown,
  isBatchCall: boolean,
  count: number,
): Record<number, unknown> | null {
  const record = Object.create(null) as Record<number, unknown>;
  if (inputs === undefined) return record;
  const transformer = routerConfig(router).transformer.input;
  try {
    if (!isBatchCall) {
      record[0] = transformer.deserialize(inputs);
      return record;
    }
    if (!isObject(inputs)) return null;
    for (let index = 0; index < count; index++) {
      const input = inputs[index];
      if (input !== undefined) record[index] = transformer.deserialize(input);
    }
    return record;
  } catch {
    return null;
  }
}

/**
 * What this adapter serves itself: GET queries and POST mutations with JSON, single or batched, to procedures
 * it can find, with well-formed input. Anything else is left to tRPC's handler, which owns every such case:
 * other methods, streaming (`trpc-accept`, `accept: application/jsonl`), subscriptions, other content types,
 * connection params, unknown or lazily loaded procedures, mixed types, a method the procedure does not take,
 * malformed URLs and malformed input.
 */
export function readRequest<TRouter extends AnyTRPCRouter>(
  opts: KoaTRPCOptions<TRouter>,
): ReadRequest | Promise<ReadRequest> {
  const { req } = opts.ctx;
  const { method, headers } = req;
  if (method !== 'GET' && method !== 'POST') return HAND_OFF;
  const target = req.url ?? '';
  if (target[0] !== '/' || target[1] === '/' || target.includes('#') || !urlParses(req)) return HAND_OFF;
  if (headers['trpc-accept'] !== undefined || wantsJsonLines(headers.accept)) return HAND_OFF;
  const contentType = headers['content-type'];
  if (contentType === undefined ? method === 'POST' : mediaType(contentType) !== 'application/json') {
    return HAND_OFF;
  }
  // A body parser got there first (tRPC knows their conventions), or someone drained the stream.
  if ('body' in req || (method === 'POST' && req.readableEnded)) return HAND_OFF;

  const queryAt = target.indexOf('?');
  const search = new URLSearchParams(queryAt === -1 ? '' : target.slice(queryAt + 1));
  if (search.has('connectionParams')) return HAND_OFF;
  const isBatchCall = search.get('batch') === '1';
  if (isBatchCall && !(opts.allowBatching ?? opts.batching?.enabled ?? true)) return HAND_OFF;
  const paths = decodedPaths(opts.path, isBatchCall);
  if (paths === null) return HAND_OFF;
  if (isBatchCall && typeof opts.maxBatchSize === 'number' && paths.length > opts.maxBatchSize)
    return HAND_OFF;

  const type = method === 'GET' ? 'query' : 'mutation';
  const calls: Call[] = [];
  for (const [batchIndex, path] of paths.entries()) {
    const procedure = findProcedure(opts.router, path);
    if (procedure?._def.type !== type) return HAND_OFF;
    calls.push({ batchIndex, path, procedure });
  }

  if (method === 'GET') {
    const raw = search.get('input');
    let inputs: unknown = undefined;
    if (raw) {
      try {
        inputs = JSON.parse(raw);
      } catch {
        return HAND_OFF;
      }
    }
    const record = inputRecord(opts.router, inputs, isBatchCall, calls.length);
    if (record === null) return HAND_OFF;
    return { kind: 'native', type, isBatchCall, calls, inputs: { record } };
  }

  return readInputs(opts, type, isBatchCall, calls);
}

/** A POST's inputs, from its body (read whole, up to the limit, before any call runs). */
async function readInputs<TRouter extends AnyTRPCRouter>(
  opts: KoaTRPCOptions<TRouter>,
  type: 'query' | 'mutation',
  isBatchCall: boolean,
  calls: Call[],
): Promise<ReadRequest> {
  const body = await readBody(opts.ctx.req, opts.maxBodySize);
  if (body.kind === 'closed') return body;
  if (body.kind === 'too-large') {
    // tRPC's handler fails the body stream with this very error.
    const error = new TRPCError({ code: 'PAYLOAD_TOO_LARGE' });
    return { kind: 'native', type, isBatchCall, calls, inputs: { error } };
  }
  let record: Record<number, unknown> | null = null;
  try {
    record = inputRecord(opts.router, JSON.parse(bodyText(body.bytes)), isBatchCall, calls.length);
  } catch {
    // Not JSON (an empty body too): tRPC decides, and answers each call by whether it reads its input.
  }
  if (record === null) return { kind: 'hand-off', body: body.bytes.toString('utf8') };
  return { kind: 'native', type, isBatchCall, calls, inputs: { record } };
}
