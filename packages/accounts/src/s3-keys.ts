// Which archive.org S3 keys a request uses: the sealed `s3` cookie first, bound to the session's user; else the
// legacy plaintext copy in the account record (sessions older than the change); else none.
import { openCookie, type CookieFormat, type CookieKeys, type CookieRejection } from '@lending/crypto';
import type { Account, AccountStore, S3Keys } from './types';

export type S3KeysSource = 'cookie' | 'store' | 'none';

/**
 * Why a present s3 cookie was not used: the reasons of openCookie, and `unbound`, an Open Library-format cookie
 * (which names no owner) where that format is not accepted.
 */
export type S3CookieRejection = CookieRejection | 'unbound';

/**
 * How Open Library-format (`access:secret`) cookies are treated. Absent: refused (`unbound`). `owns` says whether
 * the access key is shown to belong to the session's user; a cookie whose key is not refused as `wrong_subject`.
 */
export interface OpenLibraryCookiePolicy {
  accept: boolean;
  owns(access: string): boolean;
}

/**
 * Why keys came from the store: `no_cookie`, the session has no s3 cookie (it predates the change, so the patron
 * still depends on the store: the purge would log them out), or `cookie_rejected`, it has one that did not open
 * (tampered, expired, another user's, sealed under an unknown secret: no purge can help it).
 */
export type S3KeysStoreFallback = 'no_cookie' | 'cookie_rejected';

export interface S3KeysLookup {
  s3Keys: S3Keys | null;
  source: S3KeysSource;
  /** Set the `s3` cookie again: it was sealed under an old secret, or the keys came from the store. */
  reissue: boolean;
  /** Why a cookie that was present was refused; null when it opened or there was none. */
  rejected: S3CookieRejection | null;
  /** The format of the cookie that served the keys; null when no cookie did. */
  format: CookieFormat | null;
  /** Set when the store served the keys: why the cookie did not. */
  storeFallback: S3KeysStoreFallback | null;
}

const NONE: S3KeysLookup = {
  s3Keys: null,
  source: 'none',
  reissue: false,
  rejected: null,
  storeFallback: null,
  format: null,
};

function validS3Keys(value: unknown): S3Keys | null {
  if (typeof value !== 'object' || value === null) return null;
  const { access, secret } = value as Record<string, unknown>;
  return typeof access === 'string' && access.length > 0 && typeof secret === 'string' && secret.length > 0
    ? { access, secret }
    : null;
}

/**
 * Never throws for a bad cookie or username (a non-string username finds nothing); a ttl that is not a positive
 * number is a programming error (RangeError), and a database error while reading the record propagates.
 * `account`, when passed (even null), saves the store read.
 */
export async function getS3Keys(
  deps: { store: AccountStore; cookieKeys: CookieKeys },
  input: {
    username: string;
    cookie: string | null | undefined;
    ttl: number;
    now?: number;
    account?: Account | null;
    /** Absent: Open Library-format cookies are refused (`unbound`). */
    openLibrary?: OpenLibraryCookiePolicy;
  },
): Promise<S3KeysLookup> {
  const { username, cookie } = input;
  if (typeof username !== 'string' || username.length === 0) return NONE;
  if (typeof input.ttl !== 'number' || !Number.isFinite(input.ttl) || input.ttl <= 0) {
    throw new RangeError('ttl must be a positive number of seconds');
  }
  const now = typeof input.now === 'number' && Number.isFinite(input.now) ? input.now : undefined;

  let rejected: S3CookieRejection | null = null;
  if (cookie !== null && cookie !== undefined) {
    // openCookie refuses a non-string as malformed, and opens only payloads with non-empty access and secret.
    const opened = openCookie(deps.cookieKeys, cookie, {
      pur: 's3',
      sub: username,
      ttl: input.ttl,
      ...(now === undefined ? {} : { now }),
    });
    if (opened.ok) {
      const { access, secret } = opened.payload;
      // Open Library's format names no owner (openCookie fills in the expected one): its key must be shown to be
      // this user's, or the cookie is someone else's keys.
      if (opened.format === 'openlibrary' && input.openLibrary?.accept !== true) rejected = 'unbound';
      else if (opened.format === 'openlibrary' && input.openLibrary?.owns(access) !== true)
        rejected = 'wrong_subject';
      else
        return {
          s3Keys: { access, secret },
          source: 'cookie',
          reissue: opened.oldKey,
          rejected: null,
          storeFallback: null,
          format: opened.format,
        };
    } else {
      rejected = opened.reason;
    }
  }

  const account = input.account !== undefined ? input.account : await deps.store.getByUsername(username);
  // A record handed in for someone else is not this user's.
  const s3Keys = account && account.username === username ? validS3Keys(account.s3Keys) : null;
  if (s3Keys) {
    const storeFallback = rejected === null ? 'no_cookie' : 'cookie_rejected';
    return { s3Keys, source: 'store', reissue: true, rejected, storeFallback, format: null };
  }
  return { ...NONE, rejected };
}
