// JSON errors in tRPC's envelope, so clients parse guard refusals like any procedure error.
import { TRPC_ERROR_CODES_BY_KEY } from '@trpc/server/rpc';
import type { TRPC_ERROR_CODE_KEY } from '@trpc/server/rpc';
import type { Context } from 'koa';

// tRPC's code for each client-error status, so that every 4xx body carries the code its status means.
const CODE_BY_STATUS: Partial<Record<number, TRPC_ERROR_CODE_KEY>> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHORIZED',
  402: 'PAYMENT_REQUIRED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_SUPPORTED',
  408: 'TIMEOUT',
  409: 'CONFLICT',
  412: 'PRECONDITION_FAILED',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  422: 'UNPROCESSABLE_CONTENT',
  428: 'PRECONDITION_REQUIRED',
  429: 'TOO_MANY_REQUESTS',
  499: 'CLIENT_CLOSED_REQUEST',
};

/** The tRPC code for a 4xx status; BAD_REQUEST for one tRPC has no name for. */
export function clientErrorCode(status: number): TRPC_ERROR_CODE_KEY {
  return CODE_BY_STATUS[status] ?? 'BAD_REQUEST';
}

export function sendError(
  ctx: Context,
  status: number,
  code: TRPC_ERROR_CODE_KEY,
  message: string,
  appCode?: string,
): void {
  ctx.status = status;
  ctx.set('Cache-Control', 'no-store');
  ctx.body = {
    error: {
      message,
      code: TRPC_ERROR_CODES_BY_KEY[code],
      data: { code, httpStatus: status, ...(appCode ? { appCode } : {}) },
    },
  };
}
