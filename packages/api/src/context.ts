// The contract between the tRPC procedures (this package) and the HTTP host (apps/server).
// The host owns the cookie attributes and headers; procedures only say what to set.
import type {
  Account,
  AccountStore,
  ArchiveClient,
  S3KeysSource,
  S3KeysStoreFallback,
} from '@lending/accounts';
import type { CookieKeys, CookieRejection } from '@lending/crypto';
import { readSession } from './session';

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

/** Built once per server from its config. */
export interface ApiDeps {
  store: AccountStore;
  archive: ArchiveClient;
  keys: CookieKeys;
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

// ---- Added by the api package: the per-request context procedures receive. ----

/** The logged-in patron, from a valid `session` cookie and the store. */
export interface SessionUser {
  username: string;
  /** The session was started with "remember me": cookies are persistent and live 365 days. */
  remember: boolean;
  account: Account;
}

export interface Context {
  deps: ApiDeps;
  req: RequestInfo;
  /** Current time in milliseconds since the epoch (deps.now, else Date.now), fixed for the request. */
  nowMs: number;
  /** Reads the `session` cookie and the account once, on first call; null when absent or invalid. */
  getSession(): Promise<SessionUser | null>;
}

/** Cheap: nothing is parsed until a procedure asks for the session. */
export function createContext(deps: ApiDeps, req: RequestInfo): Context {
  const nowMs = deps.now ? deps.now() : Date.now();
  let session: Promise<SessionUser | null> | undefined;
  return {
    deps,
    req,
    nowMs,
    getSession() {
      session ??= readSession(deps, req, nowMs);
      return session;
    },
  };
}
