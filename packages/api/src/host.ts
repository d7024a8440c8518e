// The host contract: what an HTTP host (apps/server) gives the procedures. Cookie access, a request logger,
// counters, the login limiter and the dependencies built from its config. The host owns cookie attributes and
// headers; procedures only say what to set.
import type { AccountStore, ArchiveClient, S3KeysSource, S3KeysStoreFallback } from '@lending/accounts';
import type { CookieKeys, CookieRejection } from '@lending/crypto';

export type CookieName = 'session' | 's3';

/** Cookie access for one request. The host applies `HttpOnly; Secure; SameSite=Lax; Path=/`. */
export interface CookieJar {
  get(name: CookieName): string | undefined;
  /** `persistent` (remember me): Max-Age 365 days; otherwise a browser-session cookie. */
  set(name: CookieName, value: string, options: { persistent: boolean }): void;
  clear(name: CookieName): void;
}

/** Counters the host exports on /metrics. */
export interface ApiMetrics {
  /** A request needed the patron's S3 keys; `storeFallback` says why the store served them (null: it did not). */
  s3KeysSource(source: S3KeysSource, storeFallback: S3KeysStoreFallback | null): void;
  cookieRejected(cookie: CookieName, reason: CookieRejection): void;
  login(outcome: string): void;
}

/** Structured log lines; never pass secrets (keys, passwords, cookie values). */
export interface ApiLogger {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

/** Login throttling per client address and per email; resolves to the seconds to wait, or 0 when allowed. */
export interface LoginLimiter {
  consume(ip: string, email: string | null): Promise<number>;
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
  archive: ArchiveClient;
  archiveLinks: ArchiveLinks;
  /** The keys that seal and open the `session` and `s3` cookies (from APP_SECRET and APP_SECRET_PREVIOUS). */
  cookieKeys: CookieKeys;
  /** Server-side lifetime of a session that is not remembered, in seconds (SESSION_TTL). */
  sessionTtl: number;
  /** 'openlibrary' also writes the s3 cookie in Open Library's `access:secret` format. */
  s3CookieFormat: 'lending' | 'openlibrary';
  loginLimiter: LoginLimiter;
  metrics: ApiMetrics;
  /** Milliseconds since the epoch, like Date.now (the default); tests pass a fixed clock. */
  now?: () => number;
}

/** What the host passes for one request. */
export interface RequestInfo {
  cookies: CookieJar;
  ip: string;
  log: ApiLogger;
  setHeader(name: string, value: string): void;
}

/** One request as the session and key lookups see it: the host's part, and the request's clock. */
export interface RequestScope {
  deps: ApiDeps;
  req: RequestInfo;
  /** Milliseconds since the epoch (deps.now, else Date.now), fixed for the request. */
  nowMs: number;
}
