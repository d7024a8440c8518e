import { AppError, auditAccounts } from '@lending/accounts';
import type { Context } from '../context';
import type { Me } from '../outputs';
import { setS3Cookie } from '../s3-keys';
import { loginInput, loginWithKeysInput } from '../schemas';
import { setSessionCookie, toSeconds } from '../session';
import { publicProcedure, router } from '../trpc';
import { toMe } from './account';
import { codeLoginProcedures } from './code-login';

async function throttle(ctx: Context, email: string | null): Promise<void> {
  const wait = await ctx.deps.loginLimiter.consume(ctx.req.ip, email);
  if (wait <= 0) return;
  const seconds = Math.max(1, Math.ceil(wait));
  ctx.req.setHeader('Retry-After', String(seconds));
  ctx.deps.metrics.login('rate_limited');
  throw new AppError(
    'rate_limited',
    `login throttled for ${seconds} s (${email === null ? 'keys' : 'password'})`,
    {
      retryAfterSeconds: seconds,
    },
  );
}

/** Runs the audit and, on success, starts the session: both cookies, or the session alone without keys. */
async function logIn(
  ctx: Context,
  method: 'password' | 'keys' | 'code',
  credentials: { email: string; password: string } | { access: string; secret: string },
  remember: boolean,
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
    throw error;
  }
  const { account, s3Keys } = result;
  const session = { username: account.username, remember, printDisabled: result.printDisabled };
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
  return toMe(account, s3Keys ? 'cookie' : account.s3Keys ? 'store' : 'none', result.printDisabled);
}

export const authRouter = router({
  login: publicProcedure.input(loginInput).mutation(async ({ ctx, input }) => {
    await throttle(ctx, input.email.trim().toLowerCase());
    return logIn(ctx, 'password', { email: input.email, password: input.password }, input.remember ?? false);
  }),

  loginWithKeys: publicProcedure.input(loginWithKeysInput).mutation(async ({ ctx, input }) => {
    await throttle(ctx, null);
    return logIn(ctx, 'keys', { access: input.access, secret: input.secret }, input.remember ?? false);
  }),

  ...codeLoginProcedures(logIn),

  logout: publicProcedure.mutation(({ ctx }) => {
    ctx.req.cookies.clear('session');
    ctx.req.cookies.clear('s3');
    return { ok: true as const };
  }),
});
