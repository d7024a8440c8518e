// Login with a one-time code archive.org emails the patron (Open Library's /account/login/otp/issue and
// /account/login/otp/redeem): `auth.requestCode` asks for the code, `auth.loginWithCode` redeems it for the
// patron's keys and logs in with them, through the same audit and the same cookies as any login. Both are limited
// per client address and per email; a code asked for an unknown email answers exactly like one for a known email.
import { AppError, redeemLoginCode, requestLoginCode } from '@lending/accounts';
import type { S3Keys } from '@lending/accounts';
import type { Context } from '../context';
import type { Me } from '../outputs';
import { loginWithCodeInput, requestCodeInput } from '../schemas';
import { publicProcedure } from '../trpc';

/** The auth router's login: audit with the keys, then the session and s3 cookies, the metric and the log line. */
export type LogInWithKeys = (
  ctx: Context,
  method: 'code',
  credentials: { access: string; secret: string },
  remember: boolean,
) => Promise<Me>;

/** The login limiter, through its interface: per client address and per email. */
async function throttle(ctx: Context, email: string, what: 'code request' | 'code login'): Promise<void> {
  const wait = await ctx.deps.loginLimiter.consume(ctx.req.ip, email);
  if (wait <= 0) return;
  const seconds = Math.max(1, Math.ceil(wait));
  ctx.req.setHeader('Retry-After', String(seconds));
  ctx.deps.metrics.login('rate_limited');
  throw new AppError('rate_limited', `${what} throttled for ${seconds} s`, { retryAfterSeconds: seconds });
}

/** archive.org's own limit answers with its Retry-After; ours sends the same header. */
function withRetryAfter(ctx: Context, error: unknown): unknown {
  if (error instanceof AppError && error.code === 'rate_limited' && error.retryAfterSeconds !== undefined) {
    ctx.req.setHeader('Retry-After', String(error.retryAfterSeconds));
  }
  return error;
}

const normalised = (email: string) => email.trim().toLowerCase();

/** `auth.requestCode` and `auth.loginWithCode`, spread into the auth router. */
export function codeLoginProcedures(logIn: LogInWithKeys) {
  return {
    /** Emails a one-time code. The same `{ ok: true }` whether the email has an account or not. */
    requestCode: publicProcedure
      .input(requestCodeInput)
      .mutation(async ({ ctx, input }): Promise<{ ok: true }> => {
        await throttle(ctx, normalised(input.email), 'code request');
        try {
          await requestLoginCode({ archive: ctx.deps.archive }, { email: input.email, ip: ctx.req.ip });
        } catch (error) {
          throw withRetryAfter(ctx, error);
        }
        // No email here: a log line per address asked for would list who was asked for.
        ctx.req.log.info({ method: 'code' }, 'login code requested');
        return { ok: true };
      }),

    /** Redeems the code and logs in with the keys it yields: both cookies, as a password login sets them. */
    loginWithCode: publicProcedure.input(loginWithCodeInput).mutation(async ({ ctx, input }): Promise<Me> => {
      await throttle(ctx, normalised(input.email), 'code login');
      let s3Keys: S3Keys;
      try {
        s3Keys = await redeemLoginCode(
          { archive: ctx.deps.archive },
          { email: input.email, code: input.code, ip: ctx.req.ip },
        );
      } catch (error) {
        ctx.deps.metrics.login(error instanceof AppError ? error.code : 'error');
        throw withRetryAfter(ctx, error);
      }
      return logIn(ctx, 'code', s3Keys, input.remember ?? false);
    }),
  };
}
