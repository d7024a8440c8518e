// The patron's archive.org S3 keys for a request: the `s3` cookie first, the store's legacy copy second. Sets the
// `s3` cookie at login and whenever the keys came from the store, an old secret or Open Library's format; drops it
// when archive.org refuses the keys. An Open Library-format cookie names no owner: it is used only when its access
// key is the one issued to this session (the fingerprint sealed in the session cookie).
import { AppError, getS3Keys } from '@lending/accounts';
import type { OpenLibraryCookiePolicy, S3Keys, S3KeysSource } from '@lending/accounts';
import { accessKeyFingerprint, matchesAccessKeyFingerprint, sealCookie } from '@lending/crypto';
import type { RequestScope } from './host';
import {
  clearSessionCookies,
  cookieLifetime,
  rejectCookie,
  sessionTtl,
  setSessionCookie,
  toSeconds,
} from './session';
import type { SessionState, SessionUser } from './session';

/** Seals `s3Keys` into the `s3` cookie of this session, as of now. */
export function setS3Cookie(scope: RequestScope, session: SessionState, s3Keys: S3Keys): void {
  const value = sealCookie(
    scope.deps.cookieKeys,
    { pur: 's3', sub: session.username, access: s3Keys.access, secret: s3Keys.secret },
    { format: scope.deps.s3CookieFormat, now: toSeconds(scope.nowMs) },
  );
  scope.req.cookies.set('s3', value, cookieLifetime(scope, session, 's3'));
}

/** Whether Open Library-format cookies are read now: in that mode always, else until the interop end date. */
export function acceptsOpenLibraryCookies(scope: RequestScope): boolean {
  const { s3CookieFormat, s3CookieInteropUntil } = scope.deps;
  return (
    s3CookieFormat === 'openlibrary' || (s3CookieInteropUntil != null && scope.nowMs < s3CookieInteropUntil)
  );
}

/** Asked only when the cookie is in Open Library's format: nothing is worked out for any other. */
class OpenLibraryPolicy implements OpenLibraryCookiePolicy {
  constructor(
    private readonly scope: RequestScope,
    private readonly session: SessionUser,
  ) {}

  get accept(): boolean {
    return acceptsOpenLibraryCookies(this.scope);
  }

  owns(access: string): boolean {
    const { keyFingerprint } = this.session;
    return (
      keyFingerprint !== null &&
      matchesAccessKeyFingerprint(this.scope.deps.cookieKeys, access, keyFingerprint)
    );
  }
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
      openLibrary: new OpenLibraryPolicy(scope, session),
    },
  );
  deps.metrics.s3KeysSource(found.source, found.storeFallback);
  if (found.rejected !== null && cookie !== undefined) rejectCookie(scope, 's3', found.rejected);
  // Interop: an Open Library-format cookie, shown to be this session's, is sealed into Lending's bound format now.
  const reseal = found.format === 'openlibrary' && deps.s3CookieFormat === 'lending';
  if (found.format === 'openlibrary') deps.metrics.openLibraryCookie(reseal ? 'resealed' : 'accepted');
  if (found.s3Keys && (found.reissue || reseal)) {
    const fingerprint = accessKeyFingerprint(deps.cookieKeys, found.s3Keys.access);
    // Keys not issued at login (from the store): the session now vouches for them, so that an Open Library-format
    // cookie of them is this session's too.
    if (
      session.keyFingerprint === null ||
      !matchesAccessKeyFingerprint(deps.cookieKeys, found.s3Keys.access, session.keyFingerprint)
    ) {
      session.keyFingerprint = fingerprint;
      setSessionCookie(scope, session, session.issuedAt);
    }
    setS3Cookie(scope, session, found.s3Keys);
    req.log.info(
      { username: session.username, source: found.source, format: found.format },
      's3 cookie re-issued',
    );
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
  clearSessionCookies(scope);
  throw new AppError(
    's3_keys_missing',
    `no archive.org keys for ${session.username}'s session; session cookies cleared`,
  );
}
