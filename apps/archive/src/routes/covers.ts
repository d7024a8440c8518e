import { createHash } from 'node:crypto';
import type { Context } from 'koa';
import { coverSvg } from '../cover';
import { reply } from '../http';
import type { ArchiveState } from '../state';

/** A day: covers never change for an identifier, but the catalogue of a running stand-in might. */
const MAX_AGE_SECONDS = 86_400;

/**
 * GET /services/img/<identifier>: the book's cover, at the path archive.org's image service serves covers at
 * (OL links covers as `https://archive.org/services/img/<ocaid>`). SVG here, generated; cached a day, with an
 * ETag. 404 for an identifier the catalogue does not have (and for any deeper path).
 */
export function cover(ctx: Context, state: ArchiveState): void {
  if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return reply(ctx, 405, { error: 'method_not_allowed' });
  const identifier = ctx.path.slice('/services/img/'.length);
  const book = identifier.includes('/') ? null : state.book(identifier);
  if (!book) return reply(ctx, 404, { error: 'not_found' });

  const svg = coverSvg(book);
  ctx.set('Cache-Control', `public, max-age=${MAX_AGE_SECONDS}`);
  ctx.set('X-Content-Type-Options', 'nosniff');
  // Opened on its own, an SVG is a document: let it run nothing.
  ctx.set('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'");
  ctx.set('Cross-Origin-Resource-Policy', 'cross-origin');
  ctx.etag = createHash('sha256').update(svg).digest('base64url').slice(0, 27);
  ctx.status = 200;
  if (ctx.fresh) {
    ctx.status = 304;
    return;
  }
  ctx.type = 'image/svg+xml; charset=utf-8';
  ctx.body = svg;
}
