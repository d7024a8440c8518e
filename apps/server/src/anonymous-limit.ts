// Anonymous /trpc traffic per network (an IPv4 address, or an IPv6 /64): a token bucket per network, in this
// instance's memory, refilled at `perSecond` calls and holding at most `burst`. Each call of a batch costs one
// token. A request carrying a session cookie that opens is a patron's and is not counted here. Over the limit:
// 429 with `rate_limited`, Retry-After and `data.retryAfter`, like the login limits.
import type { CheckedSessionCookie, RequestInfo } from '@lending/api';
import { TRPC_ERROR_CODES_BY_KEY } from '@trpc/server/rpc';
import type { Context, Middleware } from 'koa';
import { networkOf } from './client-ip';

type CheckedCookie = NonNullable<RequestInfo['sessionCookie']>;
const CHECKED = Symbol('session cookie checked');

/** The `session` cookie as the limit checked it, for the api to use rather than open it again. */
export function checkedSessionCookie(ctx: Context): CheckedCookie | undefined {
  return (ctx.state as Record<symbol, CheckedCookie | undefined>)[CHECKED];
}

export interface AnonymousLimitOptions {
  prefix: string;
  perSecond: number;
  burst: number;
  /** The api's own check of a `session` cookie (checkSessionCookie), `now` in seconds. */
  checkSession: (token: string, now: number) => CheckedSessionCookie;
  /** Milliseconds since the epoch (default Date.now): the api's clock. */
  now?: () => number;
  /** Buckets kept at most (the oldest are dropped first): bounds memory under a flood of addresses. */
  maxNetworks?: number;
  decision?(outcome: 'allowed' | 'refused'): void;
}

interface Bucket {
  tokens: number;
  at: number;
}

export function anonymousLimit(options: AnonymousLimitOptions): Middleware {
  const { prefix, perSecond, burst, checkSession } = options;
  const clock = options.now ?? Date.now;
  const maxNetworks = options.maxNetworks ?? 100_000;
  const buckets = new Map<string, Bucket>();

  /** Whether the request carries a session cookie that opens; what the check found is kept for the api. */
  function hasSession(ctx: Context): boolean {
    const token = ctx.cookies.get('session');
    if (token === undefined) return false;
    const now = Math.floor(clock() / 1000);
    const checked = checkSession(token, now);
    (ctx.state as Record<symbol, CheckedCookie>)[CHECKED] = { token, now, checked };
    return checked.ok;
  }

  const subPrefix = `${prefix}/`;
  return (ctx, next) => {
    if (perSecond <= 0 || !(ctx.path === prefix || ctx.path.startsWith(subPrefix))) return next();
    if (hasSession(ctx)) return next();
    const network = networkOf(ctx.ip);
    const cost = Math.max(1, ctx.path.slice(prefix.length + 1).split(',').length);
    const now = Date.now();
    let bucket = buckets.get(network);
    if (bucket) {
      bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.at) / 1000) * perSecond);
      bucket.at = now;
      // Most recently used last, so that the oldest buckets are the first ones dropped.
      buckets.delete(network);
    } else {
      bucket = { tokens: burst, at: now };
      if (buckets.size >= maxNetworks) buckets.delete(buckets.keys().next().value!);
    }
    buckets.set(network, bucket);
    if (bucket.tokens < cost) {
      options.decision?.('refused');
      const seconds = Math.max(1, Math.ceil((cost - bucket.tokens) / perSecond));
      ctx.status = 429;
      ctx.set('Retry-After', String(seconds));
      ctx.set('Cache-Control', 'no-store');
      ctx.body = {
        error: {
          message: 'Too many requests; retry after the number of seconds in Retry-After.',
          code: TRPC_ERROR_CODES_BY_KEY.TOO_MANY_REQUESTS,
          data: { code: 'TOO_MANY_REQUESTS', httpStatus: 429, appCode: 'rate_limited', retryAfter: seconds },
        },
      };
      return Promise.resolve();
    }
    bucket.tokens -= cost;
    options.decision?.('allowed');
    return next();
  };
}
