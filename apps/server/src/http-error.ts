// Refusals from the host itself (CSRF, body cap, HTTPS needed, a 4xx from below the error boundary) in tRPC's
// error envelope, so clients parse them like any procedure error.
import { TRPCError } from '@trpc/server';
import { getHTTPStatusCodeFromError } from '@trpc/server/http';
import { TRPC_ERROR_CODES_BY_KEY } from '@trpc/server/rpc';
import type { TRPC_ERROR_CODE_KEY } from '@trpc/server/rpc';
import type { Context } from 'koa';

// tRPC's own status of each of its codes, read backwards: the code a status means. PARSE_ERROR shares 400 with
// BAD_REQUEST, which is the one a status alone means.
const CODE_BY_STATUS = new Map(
  (Object.keys(TRPC_ERROR_CODES_BY_KEY) as TRPC_ERROR_CODE_KEY[])
    .filter((code) => code !== 'PARSE_ERROR')
    .map((code) => [getHTTPStatusCodeFromError(new TRPCError({ code })), code] as const),
);

/** The tRPC code for a 4xx status; BAD_REQUEST for one tRPC has no name for. */
export function clientErrorCode(status: number): TRPC_ERROR_CODE_KEY {
  return CODE_BY_STATUS.get(status) ?? 'BAD_REQUEST';
}

export function sendError(ctx: Context, status: number, code: TRPC_ERROR_CODE_KEY, message: string): void {
  ctx.status = status;
  ctx.set('Cache-Control', 'no-store');
  ctx.body = { error: { message, code: TRPC_ERROR_CODES_BY_KEY[code], data: { code, httpStatus: status } } };
}
