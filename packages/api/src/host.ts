// The host contract: what an HTTP host (apps/server) gives the procedures. Cookie access, a request logger,
// counters, the login limiter and the dependencies built from its config. The host owns cookie attributes and
// headers; procedures only say what to set.
import type {
  AccountStore,
  ArchiveClient,
  S3CookieRejection,
  S3KeysSource,
  S3KeysStoreFallback,
} from '@lending/accounts';
import type { CookieKeys } from '@lending/crypto';

export type CookieName = 'session' | 's3';

/**
 * Why a cookie was treated as absent: a bad token (openCookie's reasons), an Open Library-format s3 cookie where
 * that format is not accepted (`unbound`), or a session no longer in its account's list (`revoked`).
 */
export type CookieRejectionReason = S3CookieRejection | 'revoked';

/** What became of an Open Library-format s3 cookie that was shown to be the session's own. */
export type OpenLibraryCookieOutcome = 'resealed' | 'accepted';

/** Cookie access for one request. The host applies `HttpOnly; Secure; SameSite=Lax; Path=/`. */
export interface CookieJar {
  get(name: CookieName): string | undefined;
  /**
   * `persistent` (remember me): a Max-Age of `maxAge` seconds (default: the longest a remembered session lives,
   * REMEMBER_MAX_TTL_SECONDS); otherwise a browser-session cookie.
   */
  set(name: CookieName, value: string, options: { persistent: boolean; maxAge?: number }): void;
  clear(name: CookieName): void;
}

/** Counters the host exports on /metrics. */
export interface ApiMetrics {
  /** A request needed the patron's S3 keys; `storeFallback` says why the store served them (null: it did not). */
  s3KeysSource(source: S3KeysSource, storeFallback: S3KeysStoreFallback | null): void;
  cookieRejected(cookie: CookieName, reason: CookieRejectionReason): void;
  /** An Open Library-format s3 cookie was used after its key was shown to be the session's. */
  openLibraryCookie(outcome: OpenLibraryCookieOutcome): void;
  login(outcome: string): void;
}

/** Structured log lines; never pass secrets (keys, passwords, cookie values). */
export interface ApiLogger {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

/**
 * What a limited attempt proves: a password for an email, archive.org keys for an access key, a one-time code
 * (or a request for one) for an email. Each kind has its own per-subject counters; the per-network and site-wide
 * failure counters are shared by all kinds. For a request that must always count (sending a one-time code), end
 * the attempt with `fail()` once the request is made.
 */
export type LimitKind = 'password' | 'keys' | 'code';

/** An attempt the limiter let through: report how it ended, exactly once. */
export interface LimitedAttempt {
  /** Wrong credentials: counts against the network, the subject, the (subject, network) pair and the site. */
  fail(): Promise<void>;
  /** Right credentials: spends nothing, clears the pair's delay and remembers the network as the patron's. */
  succeed(): Promise<void>;
  /** Neither (archive.org down, a database error): the attempt spends nothing. */
  release(): Promise<void>;
}

export type LimitDecision =
  | { allowed: true; attempt: LimitedAttempt }
  | {
      allowed: false;
      /** Seconds before the same attempt may be allowed (at least 1). */
      retryAfterSeconds: number;
      /** Which limit refused, for logs and metrics (never sent to clients). */
      reason: 'network' | 'pair' | 'subject' | 'site';
    };

/**
 * Throttling of credential attempts, shared by every instance. `check` runs before the attempt and spends nothing
 * when it refuses; the attempt's outcome then decides what is counted (failures only). `subject` is the email or
 * access key; the limiter keeps only a keyed hash of it.
 */
export interface LoginLimiter {
  check(kind: LimitKind, ip: string, subject: string): Promise<LimitDecision>;
}

/** Where patrons' browsers reach archive.org themselves, and the secret BookReader links are signed with. */
export interface ArchiveLinks {
  /** Origin of the BookReader (Open Library's `bookreader_host`), e.g. https://archive.org; no trailing slash. */
  bookreaderUrl: string;
  /** Origin of the cover image service (`/services/img/<identifier>`); no trailing slash. */
  imagesUrl: string;
  /** HMAC key of BookReader auth tokens (Open Library's `ia_access_secret`); a secret. */
  accessSecret: string;
}

/** Built once per server from its config. */
export interface ApiDeps {
  store: AccountStore;
  /** archive.org; procedures use the request's view of it (`ctx.archive`), which spends the request's budget. */
  archive: ArchiveClient;
  /** archive.org calls one request may make, past which its calls fail with archive_busy; absent: no bound. */
  archiveCallsPerRequest?: number;
  archiveLinks: ArchiveLinks;
  /** The keys that seal and open the `session` and `s3` cookies (from APP_SECRET and APP_SECRET_PREVIOUS). */
  cookieKeys: CookieKeys;
  /** Server-side lifetime of a session that is not remembered, in seconds (SESSION_TTL). */
  sessionTtl: number;
  /**
   * 'openlibrary' also writes the s3 cookie in Open Library's `access:secret` format (and accepts it, after the
   * ownership check, on every read).
   */
  s3CookieFormat: 'lending' | 'openlibrary';
  /**
   * Until when (milliseconds since the epoch) an Open Library-format s3 cookie is accepted, after the ownership
   * check, and re-sealed into Lending's format (S3_COOKIE_INTEROP_UNTIL); null or absent: never.
   */
  s3CookieInteropUntil?: number | null;
  /** A remembered session ends after this many seconds without a request (default 30 days). */
  rememberIdleTtl?: number;
  /** A remembered session ends this many seconds after login whatever its use (default and most: 90 days). */
  rememberMaxTtl?: number;
  loginLimiter: LoginLimiter;
  metrics: ApiMetrics;
  /** Milliseconds since the epoch, like Date.now (the default); tests pass a fixed clock. */
  now?: () => number;
}

/** The `session` cookie opened and held to its lifetime, not yet checked against the store. */
export type CheckedSessionCookie =
  | {
      ok: true;
      sub: string;
      rem: boolean;
      sid: string;
      iat: number;
      kfp: string | undefined;
      /** Print-disabled access; false when the cookie has no `pd` (sealed before it, or for anyone else). */
      pd: boolean;
      issuedAt: number;
      oldKey: boolean;
    }
  | { ok: false; reason: CookieRejectionReason };

/** What the host passes for one request. */
export interface RequestInfo {
  cookies: CookieJar;
  ip: string;
  log: ApiLogger;
  setHeader(name: string, value: string): void;
  /**
   * The `session` cookie as the host already checked it (checkSessionCookie), with the token and the second it was
   * checked at: used when both match this request's, instead of opening the cookie again.
   */
  sessionCookie?: { token: string; now: number; checked: CheckedSessionCookie };
}

/** One request as the session and key lookups see it: the host's part, and the request's clock. */
export interface RequestScope {
  deps: ApiDeps;
  req: RequestInfo;
  /** Milliseconds since the epoch (deps.now, else Date.now), fixed for the request. */
  nowMs: number;
}
