// Login with a one-time code archive.org emails the patron (Open Library's /account/login/otp/issue and
// /account/login/otp/redeem): `auth.requestCode` asks for the code, `auth.loginWithCode` redeems it for the
// patron's keys and logs in with them, through the same audit and the same cookies as any login. Both are limited
// per client address and per email; a code asked for an unknown email answers exactly like one for a known email.
import { AppError, redeemLoginCode, requestLoginCode } from '@lending/accounts';
import type { S3Keys } from '@lending/accounts';
import type { Context } from '../context';
import type { LimitedAttempt } from '../host';
import type { Me } from '../outputs';
import { loginWithCodeInput, requestCodeInput } from '../schemas';
import { publicProcedure } from '../trpc';

/** The auth router's login: audit with the keys, then the session and s3 cookies, the metric and the log line. */
export type LogInWithKeys = (
  ctx: Context,
  method: 'code',
  credentials: { access: string; secret: string },
  remember: boolean,
  attempt: LimitedAttempt,
) => Promise<Me>;

/** The auth router's throttle: asks the limiter (kind `code`, per address and email) or refuses with 429. */
export type Throttle = (ctx: Context, kind: 'code', subject: string) => Promise<LimitedAttempt>;

/** archive.org's own limit answers with its Retry-After; ours sends the same header. */
function withRetryAfter(ctx: Context, error: unknown): unknown {
  if (error instanceof AppError && error.code === 'rate_limited' && error.retryAfterSeconds !== undefined) {
    ctx.req.setHeader('Retry-After', String(error.retryAfterSeconds));
  }
  return error;
}

/** Refusals of the code itself: these count as failed attempts. */
const CODE_FAILURES = new Set(['invalid_code']);

const normalised = (email: string) => email.trim().toLowerCase();

/** `auth.requestCode` and `auth.loginWithCode`, spread into the auth router. */
export function codeLoginProcedures(logIn: LogInWithKeys, throttle: Throttle) {
  return {
    /** Emails a one-time code. The same `{ ok: true }` whether the email has an account or not. */
    requestCode: publicProcedure
      .input(requestCodeInput)
      .mutation(async ({ ctx, input }): Promise<{ ok: true }> => {
        const attempt = await throttle(ctx, 'code', normalised(input.email));
        try {
          await requestLoginCode({ archive: ctx.archive() }, { email: input.email, ip: ctx.req.ip });
        } catch (error) {
          // Nothing was sent (archive.org down or refusing): the request spends nothing.
          await attempt.release();
          throw withRetryAfter(ctx, error);
        }
        // A code was sent: the request always counts, like a failed attempt, so that nobody can mail-bomb an
        // address or spray codes at it faster than the limiter allows.
        await attempt.fail();
        // No email here: a log line per address asked for would list who was asked for.
        ctx.req.log.info({ method: 'code' }, 'login code requested');
        return { ok: true };
      }),

    /** Redeems the code and logs in with the keys it yields: both cookies, as a password login sets them. */
    loginWithCode: publicProcedure.input(loginWithCodeInput).mutation(async ({ ctx, input }): Promise<Me> => {
      const attempt = await throttle(ctx, 'code', normalised(input.email));
      let s3Keys: S3Keys;
      try {
        s3Keys = await redeemLoginCode(
          { archive: ctx.archive() },
          { email: input.email, code: input.code, ip: ctx.req.ip },
        );
      } catch (error) {
        ctx.deps.metrics.login(error instanceof AppError ? error.code : 'error');
        // A wrong code counts; anything else (archive.org down, a locked account) spends nothing.
        await (error instanceof AppError && CODE_FAILURES.has(error.code)
          ? attempt.fail()
          : attempt.release());
        throw withRetryAfter(ctx, error);
      }
      // The audit with the redeemed keys ends the attempt: succeed(), or fail() if archive.org refuses them.
      return logIn(ctx, 'code', s3Keys, input.remember ?? false, attempt);
    }),
  };
}
