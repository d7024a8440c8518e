import type { Context } from 'koa';
import { reply } from '../http';
import type { ArchiveState } from '../state';

/** GET /services/s3auth/ with `authorization: LOW access:secret`; `username` in the answer is the email. */
export function s3auth(ctx: Context, state: ArchiveState): void {
  if (ctx.method !== 'GET') return reply(ctx, 405, { authorized: false, error: 'method_not_allowed' });
  const match = /^LOW ([^:]{1,1024}):(.{1,1024})$/.exec(ctx.get('authorization'));
  if (!match?.[1] || !match[2]) {
    return reply(ctx, 400, { authorized: false, error: 'missing_or_invalid_authorization' });
  }
  const patron = state.patronByKeys(match[1], match[2]);
  if (!patron) return reply(ctx, 401, { authorized: false, error: 'unauthorized' });
  reply(ctx, 200, {
    authorized: true,
    username: patron.email,
    itemname: patron.itemname,
    screenname: patron.screenname,
  });
}
