// Reading and writing the two cookies: `session` (who) and `s3` (the archive.org keys).
import { getS3Keys } from '@lending/accounts';
import type { S3Keys, S3KeysSource } from '@lending/accounts';
import { openCookie, sealCookie } from '@lending/crypto';
import type { CookieRejection } from '@lending/crypto';
import type { ApiDeps, Context, CookieName, RequestInfo, SessionUser } from './context';
import { appError } from './errors';

/** Lifetime of a remembered session, and the Max-Age the host gives persistent cookies. */
export const REMEMBER_TTL_SECONDS = 365 * 24 * 60 * 60;

export function toSeconds(ms: number): number {
  return Math.floor(ms / 1000);
}

/** Server-side lifetime of both cookies of a session. */
export function sessionTtl(deps: ApiDeps, remember: boolean): number {
  return remember ? REMEMBER_TTL_SECONDS : deps.sessionTtl;
}

function rejectCookie(deps: ApiDeps, req: RequestInfo, cookie: CookieName, reason: CookieRejection): void {
  deps.metrics.cookieRejected(cookie, reason);
  // The reason only: the value is a credential. `cookieName`, as the host's log scrubber censors `cookie`.
  req.log.warn({ cookieName: cookie, reason }, `${cookie} cookie rejected`);
}

/**
 * The session of this request, or null. An invalid or expired cookie is counted, logged and cleared;
 * a cookie sealed under a previous secret is re-issued under the current one, keeping its issue time so
 * that rotation never extends a session.
 */
export async function readSession(
  deps: ApiDeps,
  req: RequestInfo,
  nowMs: number,
): Promise<SessionUser | null> {
  const token = req.cookies.get('session');
  if (token === undefined) return null;
  const now = toSeconds(nowMs);
  // Open with the longest lifetime any session has, then hold short sessions to theirs.
  const opened = openCookie(deps.keys, token, { pur: 'session', ttl: REMEMBER_TTL_SECONDS, now });
  if (!opened.ok || (!opened.payload.rem && now - opened.issuedAt > deps.sessionTtl)) {
    rejectCookie(deps, req, 'session', opened.ok ? 'expired' : opened.reason);
    req.cookies.clear('session');
    return null;
  }
  const { sub, rem } = opened.payload;
  const account = await deps.store.getByUsername(sub);
  if (!account) {
    req.log.warn({ username: sub }, 'session for an account that no longer exists');
    req.cookies.clear('session');
    return null;
  }
  if (account.status === 'blocked') {
    req.log.warn({ username: sub }, 'session of a blocked account refused');
    req.cookies.clear('session');
    return null;
  }
  if (opened.oldKey) {
    setSessionCookie(deps, req, { username: sub, remember: rem }, opened.issuedAt);
    req.log.info({ username: sub }, 'session cookie re-issued under the current secret');
  }
  return { username: sub, remember: rem, account };
}

/** `issuedAt` (seconds) is the token's time: now for a new session, the original one when re-sealing. */
export function setSessionCookie(
  deps: ApiDeps,
  req: RequestInfo,
  session: { username: string; remember: boolean },
  issuedAt: number,
): void {
  const value = sealCookie(
    deps.keys,
    { pur: 'session', sub: session.username, rem: session.remember },
    { now: issuedAt },
  );
  req.cookies.set('session', value, { persistent: session.remember });
}

export function setS3Cookie(
  deps: ApiDeps,
  req: RequestInfo,
  session: { username: string; remember: boolean },
  keys: S3Keys,
  now: number,
): void {
  const value = sealCookie(
    deps.keys,
    { pur: 's3', sub: session.username, access: keys.access, secret: keys.secret },
    { format: deps.s3CookieFormat, now },
  );
  req.cookies.set('s3', value, { persistent: session.remember });
}

/**
 * The patron's archive.org keys: the `s3` cookie first, the store's legacy copy second. Counts the source,
 * logs a rejected cookie (reason only), and re-issues the cookie when it came from the store or an old
 * secret, so that this session stops needing the store.
 */
export async function lookUpS3Keys(
  ctx: Context,
  session: SessionUser,
): Promise<{ keys: S3Keys | null; source: S3KeysSource }> {
  const { deps, req } = ctx;
  const cookie = req.cookies.get('s3');
  const found = await getS3Keys(
    { store: deps.store, keys: deps.keys },
    {
      username: session.username,
      cookie,
      ttl: sessionTtl(deps, session.remember),
      now: toSeconds(ctx.nowMs),
      account: session.account,
    },
  );
  deps.metrics.s3KeysSource(found.source, found.storeFallback);
  if (found.rejected !== null && cookie !== undefined) rejectCookie(deps, req, 's3', found.rejected);
  if (found.keys && found.reissue) {
    setS3Cookie(deps, req, session, found.keys, toSeconds(ctx.nowMs));
    req.log.info({ username: session.username, source: found.source }, 's3 cookie re-issued');
  } else if (!found.keys && cookie !== undefined) {
    req.cookies.clear('s3');
  }
  return { keys: found.keys, source: found.source };
}

/** archive.org refused the keys of this request: drop the `s3` cookie so the next request falls back or asks to log in. */
export function dropRefusedS3Keys(ctx: Context, username: string): void {
  ctx.req.cookies.clear('s3');
  ctx.req.log.warn({ username }, 'archive.org refused the patron keys; s3 cookie cleared');
}

/** Keys for a call that cannot go on without them: none ends the session (the patron logs in again). */
export async function requireS3Keys(ctx: Context, session: SessionUser): Promise<S3Keys> {
  const { keys } = await lookUpS3Keys(ctx, session);
  if (keys) return keys;
  ctx.req.cookies.clear('session');
  ctx.req.log.warn({ username: session.username }, 'no archive.org keys for this session; session cleared');
  throw appError('s3_keys_missing');
}
