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

/** Built once per server from its config. */
export interface ApiDeps {
  store: AccountStore;
  archive: ArchiveClient;
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
