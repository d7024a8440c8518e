// xauthn's one-time login codes, as Open Library calls them (openlibrary/accounts/model.py `issue_otp`,
// `redeem_otp`; openlibrary/plugins/upstream/account.py `account_login_otp_issue`, `account_login_otp_redeem`):
// `issue_otp {email, service:"ol"}` and `redeem_otp {email, password:<code>}`, both with the patron's address in
// `X-Originating-IP`. The answers' shapes, and what they mean for the account code.
import { z } from 'zod';
import { AppError } from '../errors';
import { isStorableString } from '../store/records';
import type { S3Keys } from '../types';
import type { RawAnswer } from './transport';
import { unavailable } from './transport';

const text = (max: number) => z.string().max(max).refine(isStorableString);
const optionalText = (max: number) =>
  text(max)
    .nullish()
    .transform((value) => value ?? undefined);

export const issueOtpSchema = z.union([
  z.object({ success: z.literal(true) }),
  z.object({ success: z.literal(false), error: z.string().max(256).nullish() }),
]);

export const redeemOtpSchema = z.union([
  z.object({
    success: z.literal(true),
    values: z.object({
      email: optionalText(320),
      itemname: optionalText(256),
      screenname: optionalText(256),
      token: optionalText(4096),
      // Legacy xauthn (before OL #12942) answered with the keys themselves.
      s3: z
        .object({ access: text(256).min(1), secret: text(256).min(1) })
        .nullish()
        .transform((value) => value ?? undefined),
    }),
  }),
  z.object({
    success: z.literal(false),
    error: z.string().max(256).nullish(),
    values: z.object({ reason: z.string().max(256).nullish() }).nullish(),
  }),
]);

/** redeem_otp, read: the token for issue_key (or the legacy keys), or archive.org's reason for refusing. */
export type RedeemOtpResult =
  | { success: true; email: string | null; token: string | null; s3Keys: S3Keys | null }
  | { success: false; reason: string };

/** Seconds from a Retry-After header, if it holds a sane number of them. */
function retryAfterOf(answer: RawAnswer): number {
  const seconds = Number(answer.retryAfter ?? '');
  return Number.isInteger(seconds) && seconds > 0 && seconds <= 86_400 ? seconds : 60;
}

/** A 429 from issue_otp or redeem_otp (OL reads it from the status, or the body's `code`): archive.org's limit. */
export function otpRateLimited(op: string, answer: RawAnswer): AppError | null {
  let bodyCode: unknown;
  try {
    bodyCode = (JSON.parse(answer.body) as { code?: unknown } | null)?.code;
  } catch {
    bodyCode = undefined;
  }
  if (answer.status !== 429 && bodyCode !== 429) return null;
  const seconds = retryAfterOf(answer);
  return new AppError('rate_limited', `xauthn ${op}: archive.org limits one-time codes (HTTP 429)`, {
    retryAfterSeconds: seconds,
  });
}

/** Any other answer than 200 to an OTP call is unexpected: we validate the input before sending it. */
export function otpUnexpectedStatus(op: string, answer: RawAnswer): AppError | null {
  return answer.status === 200 ? null : unavailable(`xauthn ${op}: unexpected HTTP ${answer.status}`);
}

/** The reason of a refused redeem_otp, one of a few words, never the body itself. */
export function redeemRefusal(answer: z.infer<typeof redeemOtpSchema>): string {
  if (answer.success) return '';
  const reason = answer.values?.reason ?? answer.error ?? 'invalid_otp';
  return /^[a-z_]{1,64}$/.test(reason) ? reason : 'unrecognised_reason';
}
