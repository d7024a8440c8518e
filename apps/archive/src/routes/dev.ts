import type { Context, Next } from 'koa';
import { z } from 'zod';
import { reply } from '../http';
import type { ArchiveState } from '../state';

const outboxQuery = z.object({ email: z.string().max(254).optional() });

/**
 * Development-only helpers, absent in production (their paths answer 404 there like any unknown path):
 * `GET /_dev/outbox[?email=]` lists the one-time codes "emailed", newest first; `GET /_dev/calls` counts the
 * calls per endpoint and `DELETE /_dev/calls` sets the counts back to zero.
 */
export function devRoutes(state: ArchiveState) {
  return async function dev(ctx: Context, next: Next): Promise<void> {
    if (state.production || !ctx.path.startsWith('/_dev/')) {
      await next();
      return;
    }
    ctx.set('Cache-Control', 'no-store');
    switch (`${ctx.method} ${ctx.path.replace(/\/$/, '')}`) {
      case 'GET /_dev/outbox': {
        const query = outboxQuery.safeParse(ctx.query);
        if (!query.success) return reply(ctx, 400, { error: 'bad_request', detail: 'email: one string' });
        return reply(ctx, 200, { messages: state.outbox.list(query.data.email) });
      }
      case 'GET /_dev/calls':
        return reply(ctx, 200, { calls: state.calls.snapshot(), total: state.calls.total() });
      case 'DELETE /_dev/calls':
        state.calls.reset();
        ctx.status = 204;
        return;
      default:
        return reply(ctx, 404, { error: 'not_found' });
    }
  };
}
