import { auditAccounts } from '@lending/accounts';
import type { Context } from '../context';
import { appError } from '../errors';
import { loginInput, loginWithKeysInput } from '../schemas';
import { setS3Cookie, setSessionCookie, toSeconds } from '../session';
import { publicProcedure, router } from '../trpc';
import { toMe } from './account';
import type { Me } from '../types';

async function throttle(ctx: Context, email: string | null): Promise<void> {
  const wait = await ctx.deps.loginLimiter.consume(ctx.req.ip, email);
  if (wait <= 0) return;
  const seconds = Math.max(1, Math.ceil(wait));
  ctx.req.setHeader('Retry-After', String(seconds));
  ctx.deps.metrics.login('rate_limited');
  ctx.req.log.warn({ ip: ctx.req.ip, retryAfter: seconds }, 'login rate-limited');
  throw appError('rate_limited', {
    message: `Too many login attempts. Wait ${seconds} second${seconds === 1 ? '' : 's'} and try again.`,
  });
}

/** Runs the audit and, on success, starts the session: both cookies, or the session alone without keys. */
async function logIn(
  ctx: Context,
  method: 'password' | 'keys',
  credentials: { email: string; password: string } | { access: string; secret: string },
  remember: boolean,
): Promise<Me> {
  const { deps, req } = ctx;
  const result = await auditAccounts(
    { store: deps.store, archive: deps.archive, now: () => new Date(ctx.nowMs) },
    credentials,
  );
  if (!result.ok) {
    deps.metrics.login(result.code);
    const level = result.code === 'archive_unavailable' ? 'warn' : 'info';
    req.log[level]({ method, code: result.code, reason: result.reason }, 'login refused');
    throw appError(result.code, { detail: result.reason });
  }
  const { account, keys } = result;
  const session = { username: account.username, remember };
  const now = toSeconds(ctx.nowMs);
  setSessionCookie(deps, req, session, now);
  if (keys) setS3Cookie(deps, req, session, keys, now);
  // A stale s3 cookie of an earlier session must not outlive this login (Open Library kept it).
  else req.cookies.clear('s3');
  deps.metrics.login('ok');
  // Not a field named `keys`: the host's log scrubber censors that name, which would hide this flag.
  req.log.info(
    { method, username: account.username, created: result.created, remember, keysIssued: keys !== null },
    'login',
  );
  return toMe(account, keys ? 'cookie' : account.s3Keys ? 'store' : 'none');
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

  logout: publicProcedure.mutation(({ ctx }) => {
    ctx.req.cookies.clear('session');
    ctx.req.cookies.clear('s3');
    return { ok: true as const };
  }),
});
