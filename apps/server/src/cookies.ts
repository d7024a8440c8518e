// The cookie policy: one place decides the attributes of `session` and `s3`.
// Written by hand rather than through ctx.cookies.set, because the cookies module emits only Expires, and the
// design calls for Max-Age (with Expires beside it for old clients) on remembered sessions.
import type { Context } from 'koa';
import { REMEMBER_MAX_TTL_SECONDS } from '@lending/api';
import type { CookieJar, CookieName } from '@lending/api';
import type { Logger } from 'pino';

const ATTRIBUTES = 'HttpOnly; Secure; SameSite=Lax';
const EPOCH = new Date(0).toUTCString();
// RFC 6265 cookie-octets: what a Fernet token (url-safe base64) and Open Library's `access:secret` use.
const COOKIE_VALUE = /^[\x21\x23-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]*$/;

export function serializeCookie(
  name: CookieName,
  value: string,
  maxAgeSeconds?: number,
  nowMs = Date.now(),
): string {
  if (!COOKIE_VALUE.test(value))
    throw new TypeError(`${name} cookie value has characters a cookie cannot carry`);
  const lifetime =
    maxAgeSeconds === undefined
      ? ''
      : `; Max-Age=${maxAgeSeconds}; Expires=${new Date(nowMs + maxAgeSeconds * 1000).toUTCString()}`;
  return `${name}=${value}; Path=/${lifetime}; ${ATTRIBUTES}`;
}

export function clearedCookie(name: CookieName): string {
  return `${name}=; Path=/; Max-Age=0; Expires=${EPOCH}; ${ATTRIBUTES}`;
}

/** Adds a Set-Cookie header, replacing one already set for the same cookie in this response. */
function putSetCookie(ctx: Context, name: CookieName, header: string): void {
  const current = ctx.response.get('Set-Cookie') as string | string[];
  const list = Array.isArray(current) ? current : current ? [current] : [];
  ctx.set('Set-Cookie', [...list.filter((h) => !h.startsWith(`${name}=`)), header]);
}

/**
 * Whether this request may receive Secure cookies. Browsers accept them from http://localhost, so outside
 * production they are always sent; in production only over TLS (directly, or via a proxy with TRUST_PROXY).
 */
export function canSetSecureCookies(ctx: Context, production: boolean): boolean {
  return !production || ctx.secure;
}

/** The request's cookies as procedures see them; one small object per request, its methods shared. */
class KoaCookieJar implements CookieJar {
  constructor(
    private readonly ctx: Context,
    private readonly production: boolean,
    /** The request's logger, asked for only when a line is written. */
    private readonly log: () => Logger,
  ) {}

  /** canSetSecureCookies for this request, checked when a cookie is about to be set. */
  private get allowed(): boolean {
    return canSetSecureCookies(this.ctx, this.production);
  }

  get(name: CookieName): string | undefined {
    return this.ctx.cookies.get(name);
  }

  set(
    name: CookieName,
    value: string,
    { persistent, maxAge }: { persistent: boolean; maxAge?: number },
  ): void {
    if (!this.allowed) return this.refuse(name);
    // A remembered session's cookies live as long as the session may (its idle limit or what is left of its cap).
    const lifetime = persistent ? Math.max(0, Math.floor(maxAge ?? REMEMBER_MAX_TTL_SECONDS)) : undefined;
    putSetCookie(this.ctx, name, serializeCookie(name, value, lifetime));
  }

  clear(name: CookieName): void {
    if (!this.allowed) return this.refuse(name);
    putSetCookie(this.ctx, name, clearedCookie(name));
  }

  private refuse(name: CookieName): void {
    this.log().warn(
      { cookieName: name }, // not `cookie`: the log scrubber censors that field
      'cookie not sent: production request without HTTPS (set TRUST_PROXY behind TLS)',
    );
  }
}

export function cookieJar(ctx: Context, production: boolean, log: () => Logger): CookieJar {
  return new KoaCookieJar(ctx, production, log);
}
