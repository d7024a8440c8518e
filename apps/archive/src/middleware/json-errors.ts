import type { Context, Next } from 'koa';
import { reply } from '../http';

/** Any error becomes JSON; client errors (bad JSON, too large, bad charset) keep their 4xx status. */
export async function jsonErrors(ctx: Context, next: Next): Promise<void> {
  try {
    await next();
  } catch (error) {
    const status = (error as { status?: unknown }).status;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      // No message: a JSON parser's message can quote the body, and bodies carry keys.
      reply(ctx, status, { error: status === 413 ? 'payload_too_large' : 'bad_request' });
    } else {
      ctx.app.emit('error', error, ctx);
      reply(ctx, 500, { error: 'internal_error' });
    }
  }
}
