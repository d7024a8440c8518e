// Request guards in front of the tRPC mount: CSRF (content type and Origin) and the body size cap.
import type { Middleware } from 'koa';
import { sendError } from './http-error';
import { requestLog } from './request-log';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

function mediaType(contentType: string): string {
  return (contentType.split(';')[0] ?? '').trim().toLowerCase();
}

/**
 * Guards for the API, in order:
 * - Origin, when present, must be this server's own (behind TRUST_PROXY: the forwarded one).
 * - Anything but GET/HEAD/OPTIONS must be `application/json`. A browser sends a cross-site POST without a CORS
 *   preflight only as a "simple" request (form-urlencoded, multipart or text/plain), and tRPC would run an
 *   input-less mutation such as auth.logout from one; JSON forces a preflight, which we never grant.
 * - A declared body over `bodyLimit` bytes is refused before anything reads it (the tRPC mount caps chunked
 *   bodies as they stream).
 */
export function apiGuards(options: { prefix: string; bodyLimit: number }): Middleware {
  const { prefix, bodyLimit } = options;
  const subPrefix = `${prefix}/`;
  return (ctx, next) => {
    if (ctx.path !== prefix && !ctx.path.startsWith(subPrefix)) return next();
    const origin = ctx.get('Origin');
    // Not ctx.origin: in Koa 3 that is the Origin header itself. Exact equality: a prefix or suffix test would let
    // look-alikes through (`http://host:3000.evil.example`).
    if (origin && origin !== `${ctx.protocol}://${ctx.host}`) {
      requestLog(ctx).warn(
        { guard: 'origin', origin: origin.slice(0, 200), method: ctx.method },
        'refused by the CSRF guard: foreign Origin',
      );
      sendError(ctx, 403, 'FORBIDDEN', 'Cross-origin requests are not allowed');
      return Promise.resolve();
    }
    const type = mediaType(ctx.get('Content-Type'));
    if (!SAFE_METHODS.has(ctx.method) && type !== 'application/json') {
      requestLog(ctx).warn(
        { guard: 'content_type', contentType: type.slice(0, 100), method: ctx.method },
        'refused by the CSRF guard: not a JSON body',
      );
      sendError(
        ctx,
        415,
        'UNSUPPORTED_MEDIA_TYPE',
        'Send mutations as POST with content-type: application/json',
      );
      return Promise.resolve();
    }
    if (Number(ctx.get('Content-Length') || 0) > bodyLimit) {
      ctx.set('Connection', 'close');
      sendError(ctx, 413, 'PAYLOAD_TOO_LARGE', `Request body too large (limit ${bodyLimit} bytes)`);
      return Promise.resolve();
    }
    return next();
  };
}

/** The policy: the page's own origin, plus archive.org's cover image service (`imagesOrigin`) for images only. */
export function contentSecurityPolicy(imagesOrigin: string): string {
  return (
    "default-src 'self'; base-uri 'self'; object-src 'none'; frame-ancestors 'none'; form-action 'self'; " +
    `img-src 'self' data: ${imagesOrigin}; style-src 'self' 'unsafe-inline'`
  );
}

function securityHeaderList(imagesOrigin: string): [string, string][] {
  return [
    ['X-Content-Type-Options', 'nosniff'],
    ['X-Frame-Options', 'DENY'],
    ['Referrer-Policy', 'no-referrer'],
    ['Cross-Origin-Opener-Policy', 'same-origin'],
    ['Cross-Origin-Resource-Policy', 'same-origin'],
    ['Content-Security-Policy', contentSecurityPolicy(imagesOrigin)],
  ];
}

/** `imagesOrigin`: the cover image host (ARCHIVE_IMAGES_URL's origin), the one other origin the page loads from. */
export function securityHeaders(options: { production: boolean; imagesOrigin: string }): Middleware {
  const headers = securityHeaderList(options.imagesOrigin);
  return (ctx, next) => {
    // Straight onto the response: on every request, Koa's ctx.set(object) walk costs more than the headers.
    for (const [name, value] of headers) ctx.res.setHeader(name, value);
    if (options.production && ctx.secure) ctx.res.setHeader('Strict-Transport-Security', 'max-age=31536000');
    return next();
  };
}
