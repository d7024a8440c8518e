// The `session` cookie: who the patron is. Read (and counted, logged and cleared when invalid), re-sealed under the
// current secret after a rotation, and set at login.
import type { Account } from '@lending/accounts';
import { openCookie, sealCookie } from '@lending/crypto';
import type { CookieRejection } from '@lending/crypto';
import type { ApiDeps, CookieName, RequestScope } from './host';

/** The logged-in patron, from a valid `session` cookie and the store. */
export interface SessionUser {
  username: string;
  /** The session was started with "remember me": cookies are persistent and live 365 days. */
  remember: boolean;
  /** Print-disabled access (xauthn's has_disability_access at login); false for cookies sealed before it. */
  printDisabled: boolean;
  account: Account;
}

/** Lifetime of a remembered session, and the Max-Age the host gives persistent cookies. */
export const REMEMBER_TTL_SECONDS = 365 * 24 * 60 * 60;

export function toSeconds(ms: number): number {
  return Math.floor(ms / 1000);
}

/** Server-side lifetime of both cookies of a session. */
export function sessionTtl(deps: ApiDeps, remember: boolean): number {
  return remember ? REMEMBER_TTL_SECONDS : deps.sessionTtl;
}

/** Counts and logs a cookie treated as absent: the reason only, never the value (a credential). */
export function rejectCookie(scope: RequestScope, cookie: CookieName, reason: CookieRejection): void {
  scope.deps.metrics.cookieRejected(cookie, reason);
  // `cookieName`, as the host's log scrubber censors fields named `cookie`.
  scope.req.log.warn({ cookieName: cookie, reason }, `${cookie} cookie rejected`);
}

/**
 * The session of this request, or null. An invalid or expired cookie is counted, logged and cleared;
 * a cookie sealed under a previous secret is re-issued under the current one, keeping its issue time so
 * that rotation never extends a session.
 */
export async function readSession(scope: RequestScope): Promise<SessionUser | null> {
  const { deps, req } = scope;
  const token = req.cookies.get('session');
  if (token === undefined) return null;
  const now = toSeconds(scope.nowMs);
  // Open with the longest lifetime any session has, then hold short sessions to theirs.
  const opened = openCookie(deps.cookieKeys, token, { pur: 'session', ttl: REMEMBER_TTL_SECONDS, now });
  if (!opened.ok || (!opened.payload.rem && now - opened.issuedAt > deps.sessionTtl)) {
    rejectCookie(scope, 'session', opened.ok ? 'expired' : opened.reason);
    req.cookies.clear('session');
    return null;
  }
  const { sub, rem } = opened.payload;
  const printDisabled = opened.payload.pd === true;
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
    setSessionCookie(scope, { username: sub, remember: rem, printDisabled }, opened.issuedAt);
    req.log.info({ username: sub }, 'session cookie re-issued under the current secret');
  }
  return { username: sub, remember: rem, printDisabled, account };
}

/** `issuedAt` (seconds) is the token's time: now for a new session, the original one when re-sealing. */
export function setSessionCookie(
  scope: RequestScope,
  session: { username: string; remember: boolean; printDisabled?: boolean },
  issuedAt: number,
): void {
  // `pd` only when true: the cookies of other patrons stay exactly as they were.
  const value = sealCookie(
    scope.deps.cookieKeys,
    {
      pur: 'session',
      sub: session.username,
      rem: session.remember,
      ...(session.printDisabled === true ? { pd: true } : {}),
    },
    { now: issuedAt },
  );
  scope.req.cookies.set('session', value, { persistent: session.remember });
}
