import { AppError, auditAccounts } from '@lending/accounts';
import type { Context } from '../context';
import type { LimitKind, LimitedAttempt } from '../host';
import type { Me } from '../outputs';
import { loginInput, loginWithKeysInput } from '../schemas';
import { endAllSessions, endSession, startSession } from '../start-session';
import { protectedProcedure, publicProcedure, router } from '../trpc';
import { toMe } from './account';
import { codeLoginProcedures } from './code-login';

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
  method: 'password' | 'keys' | 'code',
  credentials: { email: string; password: string } | { access: string; secret: string },
  remember: boolean,
  attempt: LimitedAttempt,
): Promise<Me> {
  const { deps, req } = ctx;
  let result;
  try {
    result = await auditAccounts(
      { store: deps.store, archive: ctx.archive(), now: () => new Date(ctx.nowMs) },
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
  await startSession(ctx, account.username, remember, s3Keys, { printDisabled: result.printDisabled });
  deps.metrics.login('ok');
  // Not a field named `keys`: the host's log scrubber censors that name, which would hide this flag.
  req.log.info(
    { method, username: account.username, created: result.created, remember, keysIssued: s3Keys !== null },
    'login',
  );
  return toMe(account, s3Keys ? 'cookie' : account.s3Keys ? 'store' : 'none', result.printDisabled);
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

  ...codeLoginProcedures(logIn, throttle),

  /** Ends this session: revoked in the store (its cookies, replayed, no longer work) and cleared. */
  logout: publicProcedure.mutation(async ({ ctx }) => {
    await endSession(ctx, await ctx.getSession());
    return { ok: true as const };
  }),

  /** Ends every session of the patron, on every device, this one included. */
  logoutEverywhere: protectedProcedure.mutation(async ({ ctx }) => {
    const sessions = await endAllSessions(ctx, ctx.session);
    return { ok: true as const, sessions };
  }),
});
