// Starting and ending sessions (docs/ARCHITECTURE.md, "Sessions"): a login adds a new session id to the account's
// list of live sessions and seals it into the `session` cookie, with the fingerprint of the keys it was given;
// logout removes this id, logout everywhere empties the list.
import { randomBytes } from 'node:crypto';
import type { S3Keys } from '@lending/accounts';
import { accessKeyFingerprint } from '@lending/crypto';
import type { RequestScope } from './host';
import { setS3Cookie } from './s3-keys';
import {
  clearSessionCookies,
  MAX_SESSIONS_PER_ACCOUNT,
  sessionTtl,
  setSessionCookie,
  toSeconds,
} from './session';
import type { SessionUser } from './session';

/** Records a new live session for `username` and sets both cookies (the `s3` one cleared when no keys came). */
export async function startSession(
  scope: RequestScope,
  username: string,
  remember: boolean,
  s3Keys: S3Keys | null,
  options: { printDisabled?: boolean } = {},
): Promise<void> {
  const now = toSeconds(scope.nowMs);
  const id = randomBytes(16).toString('base64url');
  await scope.deps.store.addSession(
    username,
    { id, expiresAt: now + sessionTtl(scope.deps, remember) },
    { now, max: MAX_SESSIONS_PER_ACCOUNT },
  );
  const session = {
    username,
    remember,
    id,
    loginAt: now,
    keyFingerprint: s3Keys ? accessKeyFingerprint(scope.deps.cookieKeys, s3Keys.access) : null,
    // xauthn's has_disability_access at login, carried in the cookie (`pd`) through renewals and re-seals.
    printDisabled: options.printDisabled ?? false,
  };
  setSessionCookie(scope, session, now);
  if (s3Keys) setS3Cookie(scope, session, s3Keys);
  // A stale s3 cookie of an earlier session must not outlive this login (Open Library kept it).
  else scope.req.cookies.clear('s3');
}

/** Revokes this session (when there is a valid one) and clears both cookies. */
export async function endSession(scope: RequestScope, session: SessionUser | null): Promise<void> {
  clearSessionCookies(scope);
  if (session === null) return;
  await scope.deps.store.removeSession(session.username, session.id);
  scope.req.log.info({ username: session.username }, 'logout');
}

/** Revokes every session of the patron, this one included, and clears both cookies; resolves to how many. */
export async function endAllSessions(scope: RequestScope, session: SessionUser): Promise<number> {
  clearSessionCookies(scope);
  const ended = await scope.deps.store.removeAllSessions(session.username);
  scope.req.log.info({ username: session.username, sessions: ended }, 'logout everywhere');
  return ended;
}
