// The patron's archive.org S3 keys for a request: the `s3` cookie first, the store's legacy copy second. Sets the
// `s3` cookie at login and whenever the keys came from the store or an old secret; drops it when archive.org
// refuses the keys.
import { AppError, getS3Keys } from '@lending/accounts';
import type { S3Keys, S3KeysSource } from '@lending/accounts';
import { sealCookie } from '@lending/crypto';
import type { RequestScope } from './host';
import { rejectCookie, sessionTtl, toSeconds } from './session';
import type { SessionUser } from './session';

/** Seals `s3Keys` into the `s3` cookie of this session, as of now. */
export function setS3Cookie(
  scope: RequestScope,
  session: { username: string; remember: boolean },
  s3Keys: S3Keys,
): void {
  const value = sealCookie(
    scope.deps.cookieKeys,
    { pur: 's3', sub: session.username, access: s3Keys.access, secret: s3Keys.secret },
    { format: scope.deps.s3CookieFormat, now: toSeconds(scope.nowMs) },
  );
  scope.req.cookies.set('s3', value, { persistent: session.remember });
}

/**
 * The patron's keys and where they came from. Counts the source, logs a rejected cookie (reason only), and
 * re-issues the cookie when it came from the store or an old secret, so that this session stops needing the store.
 */
export async function lookUpS3Keys(
  scope: RequestScope,
  session: SessionUser,
): Promise<{ s3Keys: S3Keys | null; source: S3KeysSource }> {
  const { deps, req } = scope;
  const cookie = req.cookies.get('s3');
  const found = await getS3Keys(
    { store: deps.store, cookieKeys: deps.cookieKeys },
    {
      username: session.username,
      cookie,
      ttl: sessionTtl(deps, session.remember),
      now: toSeconds(scope.nowMs),
      account: session.account,
    },
  );
  deps.metrics.s3KeysSource(found.source, found.storeFallback);
  if (found.rejected !== null && cookie !== undefined) rejectCookie(scope, 's3', found.rejected);
  if (found.s3Keys && found.reissue) {
    setS3Cookie(scope, session, found.s3Keys);
    req.log.info({ username: session.username, source: found.source }, 's3 cookie re-issued');
  } else if (!found.s3Keys && cookie !== undefined) {
    req.cookies.clear('s3');
  }
  return { s3Keys: found.s3Keys, source: found.source };
}

/** archive.org refused the keys of this request: drop the `s3` cookie so the next request falls back or asks to log in. */
export function dropRefusedS3Keys(scope: RequestScope, username: string): void {
  scope.req.cookies.clear('s3');
  scope.req.log.warn({ username }, 'archive.org refused the patron keys; s3 cookie cleared');
}

/** Keys for a call that cannot go on without them: none ends the session (the patron logs in again). */
export async function requireS3Keys(scope: RequestScope, session: SessionUser): Promise<S3Keys> {
  const { s3Keys } = await lookUpS3Keys(scope, session);
  if (s3Keys) return s3Keys;
  scope.req.cookies.clear('session');
  throw new AppError(
    's3_keys_missing',
    `no archive.org keys for ${session.username}'s session; session cookie cleared`,
  );
}
