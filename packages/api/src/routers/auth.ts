import { AppError, auditAccounts } from '@lending/accounts';
import type { Context } from '../context';
import type { LimitKind, LimitedAttempt } from '../host';
import type { Me } from '../outputs';
import { setS3Cookie } from '../s3-keys';
import { loginInput, loginWithKeysInput } from '../schemas';
import { setSessionCookie, toSeconds } from '../session';
import { publicProcedure, router } from '../trpc';
import { toMe } from './account';

/** Credential refusals: these count as failed attempts. Anything else (archive.org down…) spends nothing. */
const CREDENTIAL_FAILURES = new Set(['invalid_credentials', 'invalid_s3keys']);

/** Asks the limiter before the attempt; refuses with 429 `rate_limited` and Retry-After, spending nothing. */
async function throttle(ctx: Context, kind: LimitKind, subject: string): Promise<LimitedAttempt> {
  const decision = await ctx.deps.loginLimiter.check(kind, ctx.req.ip, subject);
  if (decision.allowed) return decision.attempt;
  const seconds = Math.max(1, Math.ceil(decision.retryAfterSeconds));
  ctx.req.setHeader('Retry-After', String(seconds));
  ctx.deps.metrics.login('rate_limited');
  throw new AppError('rate_limited', `login throttled for ${seconds} s (${kind}, ${decision.reason} limit)`, {
    retryAfterSeconds: seconds,
  });
}

/** Runs the audit and, on success, starts the session: both cookies, or the session alone without keys. */
async function logIn(
  ctx: Context,
  method: 'password' | 'keys',
  credentials: { email: string; password: string } | { access: string; secret: string },
  remember: boolean,
  attempt: LimitedAttempt,
): Promise<Me> {
  const { deps, req } = ctx;
  let result;
  try {
    result = await auditAccounts(
      { store: deps.store, archive: deps.archive, now: () => new Date(ctx.nowMs) },
      credentials,
    );
  } catch (error) {
    // The refusal itself is logged once, by the host, with its code and detail.
    deps.metrics.login(error instanceof AppError ? error.code : 'error');
    await (error instanceof AppError && CREDENTIAL_FAILURES.has(error.code)
      ? attempt.fail()
      : attempt.release());
    throw error;
  }
  await attempt.succeed();
  const { account, s3Keys } = result;
  const session = { username: account.username, remember };
  setSessionCookie(ctx, session, toSeconds(ctx.nowMs));
  if (s3Keys) setS3Cookie(ctx, session, s3Keys);
  // A stale s3 cookie of an earlier session must not outlive this login (Open Library kept it).
  else req.cookies.clear('s3');
  deps.metrics.login('ok');
  // Not a field named `keys`: the host's log scrubber censors that name, which would hide this flag.
  req.log.info(
    { method, username: account.username, created: result.created, remember, keysIssued: s3Keys !== null },
    'login',
  );
  return toMe(account, s3Keys ? 'cookie' : account.s3Keys ? 'store' : 'none');
}

export const authRouter = router({
  login: publicProcedure.input(loginInput).mutation(async ({ ctx, input }) => {
    const attempt = await throttle(ctx, 'password', input.email.trim().toLowerCase());
    return logIn(
      ctx,
      'password',
      { email: input.email, password: input.password },
      input.remember ?? false,
      attempt,
    );
  }),

  loginWithKeys: publicProcedure.input(loginWithKeysInput).mutation(async ({ ctx, input }) => {
    const attempt = await throttle(ctx, 'keys', input.access.trim());
    return logIn(
      ctx,
      'keys',
      { access: input.access, secret: input.secret },
      input.remember ?? false,
      attempt,
    );
  }),

  logout: publicProcedure.mutation(({ ctx }) => {
    ctx.req.cookies.clear('session');
    ctx.req.cookies.clear('s3');
    return { ok: true as const };
  }),
});
