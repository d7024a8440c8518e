// What no middleware below handled: a client error keeps its 4xx (Koa's `status`, and its message only when
// `expose` says it is meant for the client); anything else is a 500 with a generic message, logged with its cause
// chain, never a stack sent. Both in tRPC's envelope.
import { causeChain } from '@lending/accounts';
import type Koa from 'koa';
import type { Context, Middleware } from 'koa';
import type { Logger } from 'pino';
import { clientErrorCode, sendError } from './http-error';
import { requestLog } from './request-log';

function answerError(ctx: Context, err: unknown): void {
  const status = (err as { status?: unknown }).status;
  const expose = (err as { expose?: unknown }).expose === true;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const message = expose ? (err as Error).message : 'Bad request';
    return sendError(ctx, status, clientErrorCode(status), message);
  }
  requestLog(ctx).error({ status: 500, causes: causeChain(err, { stacks: true }) }, 'unhandled error');
  if (ctx.headerSent || !ctx.writable) return;
  sendError(ctx, 500, 'INTERNAL_SERVER_ERROR', 'Internal server error');
}

export function errorBoundary(): Middleware {
  return (ctx, next) => next().catch((err: unknown) => answerError(ctx, err));
}

/** Errors Koa reports after the response started (a stream failing mid-way); a client hanging up is routine. */
export function logResponseErrors(app: Koa, logger: Logger): void {
  app.on('error', (err: unknown) => {
    const code = (err as { code?: unknown }).code;
    if (code === 'ERR_STREAM_PREMATURE_CLOSE' || code === 'ECONNRESET' || code === 'EPIPE') {
      logger.debug({ code }, 'client closed the connection');
    } else {
      logger.warn({ causes: causeChain(err, { stacks: true }) }, 'response error');
    }
  });
}
