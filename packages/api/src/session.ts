// The `session` cookie: who the patron is, and which of the account's live sessions this is (docs/ARCHITECTURE.md,
// "Sessions"). Read on every request (counted, logged and cleared when invalid, expired, revoked or blocked),
// renewed while a remembered session is in use, re-sealed under the current secret after a rotation, set at login.
import type { Account } from '@lending/accounts';
import { openCookie, sealCookie } from '@lending/crypto';
import type { ApiDeps, CheckedSessionCookie, CookieName, CookieRejectionReason, RequestScope } from './host';

/** What the sealed `session` cookie says, checked against the store. */
export interface SessionState {
  username: string;
  /** Started with "remember me": persistent cookies and a sliding lifetime. */
  remember: boolean;
  /** The session's id in the account's list of live sessions. */
  id: string;
  /** Login time, in seconds: the absolute cap counts from here. */
  loginAt: number;
  /** Fingerprint of the access key issued with this session (accessKeyFingerprint); null when none was. */
  keyFingerprint: string | null;
  /** Print-disabled access (xauthn's has_disability_access at login); false for cookies sealed before it. */
  printDisabled: boolean;
}

/** The logged-in patron, from a valid `session` cookie and the store. */
export interface SessionUser extends SessionState {
  account: Account;
  /** When the cookie was last sealed (seconds): login, the last renewal, or the original time after a rotation. */
  issuedAt: number;
}

const DAY = 24 * 60 * 60;
/** The longest a remembered session may live from login: the cap rememberMaxTtl (REMEMBER_MAX_TTL) may not exceed. */
export const REMEMBER_MAX_TTL_SECONDS = 90 * DAY;
/** Default lifetime of a remembered session without a request. */
export const REMEMBER_IDLE_TTL_SECONDS = 30 * DAY;
/** @deprecated The Max-Age a persistent cookie gets when none is given: the absolute cap. */
export const REMEMBER_TTL_SECONDS = REMEMBER_MAX_TTL_SECONDS;
/** Live sessions kept per account; a login past this many ends the oldest. */
export const MAX_SESSIONS_PER_ACCOUNT = 20;

export function toSeconds(ms: number): number {
  return Math.floor(ms / 1000);
}

/** The lifetimes of a remembered session under `deps` (seconds). */
export function rememberLifetimes(deps: ApiDeps): { idle: number; max: number } {
  const max = Math.min(deps.rememberMaxTtl ?? REMEMBER_MAX_TTL_SECONDS, REMEMBER_MAX_TTL_SECONDS);
  return { idle: Math.min(deps.rememberIdleTtl ?? REMEMBER_IDLE_TTL_SECONDS, max), max };
}

/** Server-side lifetime of both cookies of a session, from login. */
export function sessionTtl(deps: ApiDeps, remember: boolean): number {
  return remember ? rememberLifetimes(deps).max : deps.sessionTtl;
}

/** A remembered session's cookie is sealed again once it is this old (seconds), so its idle clock restarts. */
function renewAfter(idle: number): number {
  return Math.max(60, Math.min(DAY, Math.floor(idle / 10)));
}

/** Counts and logs a cookie treated as absent: the reason only, never the value (a credential). */
export function rejectCookie(scope: RequestScope, cookie: CookieName, reason: CookieRejectionReason): void {
  scope.deps.metrics.cookieRejected(cookie, reason);
  // `cookieName`, as the host's log scrubber censors fields named `cookie`.
  scope.req.log.warn({ cookieName: cookie, reason }, `${cookie} cookie rejected`);
}

/** Ends the session in this browser: both cookies go (an `s3` cookie is of no use without its session). */
export function clearSessionCookies(scope: RequestScope): void {
  scope.req.cookies.clear('session');
  scope.req.cookies.clear('s3');
}

/**
 * Opens the `session` cookie and holds it to its lifetime (`now` in seconds); the store is not read here. A host
 * that needs to know before tRPC runs whether a request carries a session (the anonymous-traffic limit) asks this,
 * and passes what it got on as RequestInfo.sessionCookie, so that the cookie is opened once per request.
 */
export function checkSessionCookie(deps: ApiDeps, token: string, now: number): CheckedSessionCookie {
  const remembered = rememberLifetimes(deps);
  // Open with the longest lifetime any session has, then hold each session to its own.
  const opened = openCookie(deps.cookieKeys, token, {
    pur: 'session',
    ttl: Math.max(remembered.max, deps.sessionTtl),
    now,
  });
  if (!opened.ok) return opened;
  const { sub, rem, sid, iat, kfp, pd } = opened.payload;
  const { issuedAt, oldKey } = opened;
  // A cookie without id and login time predates revocable sessions: it cannot be revoked, so it is not accepted.
  if (sid === undefined || iat === undefined || iat > issuedAt) return { ok: false, reason: 'bad_payload' };
  const expired = rem
    ? now - iat > remembered.max || now - issuedAt > remembered.idle
    : now - iat > deps.sessionTtl;
  if (expired) return { ok: false, reason: 'expired' };
  return { ok: true, sub, rem, sid, iat, kfp, pd: pd === true, issuedAt, oldKey };
}

/**
 * The session of this request, or null. An invalid, expired or revoked cookie is counted, logged and cleared (with
 * the `s3` cookie); a blocked account's too. The account read here is the one every request makes: its list of
 * live sessions is what revocation checks. A remembered session is renewed (sealed again as of now) once a day of
 * use; a cookie sealed under a previous secret is re-issued under the current one.
 */
export async function readSession(scope: RequestScope): Promise<SessionUser | null> {
  const { deps, req } = scope;
  const token = req.cookies.get('session');
  if (token === undefined) return null;
  const now = toSeconds(scope.nowMs);
  const remembered = rememberLifetimes(deps);
  const known = req.sessionCookie;
  const checked =
    known !== undefined && known.token === token && known.now === now
      ? known.checked
      : checkSessionCookie(deps, token, now);
  if (!checked.ok) {
    rejectCookie(scope, 'session', checked.reason);
    clearSessionCookies(scope);
    return null;
  }
  const { sub, rem, sid, iat, kfp, pd: printDisabled } = checked;
  const account = await deps.store.getByUsername(sub);
  if (!account) {
    req.log.warn({ username: sub }, 'session for an account that no longer exists');
    clearSessionCookies(scope);
    return null;
  }
  if (account.status === 'blocked') {
    req.log.warn({ username: sub }, 'session of a blocked account refused');
    clearSessionCookies(scope);
    return null;
  }
  if (!(account.sessions ?? []).some((each) => each.id === sid && each.expiresAt > now)) {
    rejectCookie(scope, 'session', 'revoked');
    clearSessionCookies(scope);
    return null;
  }
  const session: SessionUser = {
    username: sub,
    remember: rem,
    id: sid,
    loginAt: iat,
    keyFingerprint: kfp ?? null,
    printDisabled,
    account,
    issuedAt: checked.issuedAt,
  };
  if (rem && now - checked.issuedAt >= renewAfter(remembered.idle)) {
    // Sliding: sealed again as of now, which restarts its idle clock; the cap still counts from login (iat).
    session.issuedAt = now;
    setSessionCookie(scope, session, now);
  } else if (checked.oldKey) {
    setSessionCookie(scope, session, checked.issuedAt);
    req.log.info({ username: sub }, 'session cookie re-issued under the current secret');
  }
  return session;
}

/**
 * `issuedAt` (seconds) is the token's time: now for a new or renewed session, the original one when re-sealing
 * after a rotation. A remembered session's cookie lives until its idle limit or its cap, whichever comes first.
 */
export function setSessionCookie(scope: RequestScope, session: SessionState, issuedAt: number): void {
  const value = sealCookie(
    scope.deps.cookieKeys,
    {
      pur: 'session',
      sub: session.username,
      rem: session.remember,
      sid: session.id,
      iat: session.loginAt,
      ...(session.keyFingerprint === null ? {} : { kfp: session.keyFingerprint }),
      // `pd` only when true: the cookies of other patrons stay exactly as they were.
      ...(session.printDisabled ? { pd: true } : {}),
    },
    { now: issuedAt },
  );
  scope.req.cookies.set('session', value, cookieLifetime(scope, session, 'session'));
}

/** The jar options for a cookie of `session`: browser-session, or persistent with the time it has left. */
export function cookieLifetime(
  scope: RequestScope,
  session: Pick<SessionState, 'remember' | 'loginAt'>,
  cookie: CookieName,
): { persistent: boolean; maxAge?: number } {
  if (!session.remember) return { persistent: false };
  const { idle, max } = rememberLifetimes(scope.deps);
  const left = Math.max(0, session.loginAt + max - toSeconds(scope.nowMs));
  // The s3 cookie is not renewed with the session; it may live as long as the session could.
  return { persistent: true, maxAge: cookie === 'session' ? Math.min(idle, left) : left };
}
