// JSON errors in tRPC's envelope, so clients parse guard refusals like any procedure error.
import { TRPC_ERROR_CODES_BY_KEY } from '@trpc/server/rpc';
import type { TRPC_ERROR_CODE_KEY } from '@trpc/server/rpc';
import type { Context } from 'koa';

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
