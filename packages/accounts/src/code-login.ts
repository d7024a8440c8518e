// Login with a one-time code archive.org emails the patron, as Open Library's `account_login_otp_issue` and
// `account_login_otp_redeem` do it (openlibrary/plugins/upstream/account.py): xauthn issue_otp; then redeem_otp,
// the keys from its answer or else issue_key with the token it returned, then the same audit as a login with S3
// keys (s3auth, info, find or create the account: `auditAccounts` with the keys this returns). Every refusal is an
// AppError.
import { z } from 'zod';
import type { ArchiveClient } from './archive-client';
import { emailSchema } from './audit';
import { AppError } from './errors';
import type { S3Keys } from './types';

/** A code as a patron types it: printable, no spaces inside; archive.org's are 6 digits, but it decides. */
const codeSchema = z
  .string()
  .trim()
  .regex(/^[!-~]{4,64}$/);

function validEmail(input: unknown): string {
  const email = emailSchema.safeParse(input);
  if (!email.success) throw new AppError('invalid_email', 'malformed_email');
  return email.data;
}

/**
 * Asks archive.org to email a code. Resolves alike whether the email has an account or not (archive.org answers
 * alike, and so must we): nobody learns which emails have accounts.
 */
export async function requestLoginCode(
  deps: { archive: ArchiveClient },
  input: { email: unknown; ip: string | null },
): Promise<{ email: string }> {
  const email = validEmail(input.email);
  await deps.archive.issueOtp(email, input.ip);
  return { email };
}

/** redeem_otp's refusal reasons, as our codes; the precise reason is the detail, for the log. */
function refusalFor(reason: string): AppError {
  switch (reason) {
    case 'account_locked':
    case 'account_blocked':
      return new AppError('account_locked', `redeem_otp: ${reason}`);
    case 'account_not_verified':
    case 'ia_account_not_verified':
      return new AppError('ia_account_not_verified', `redeem_otp: ${reason}`);
    default:
      // invalid_otp (wrong, expired, used, burnt; unknown email alike), missing_fields, anything else.
      return new AppError('invalid_code', `redeem_otp: ${reason}`);
  }
}

/**
 * Redeems the code for the patron's S3 keys: the caller logs in with them (`auditAccounts`, the S3 path), as
 * Open Library does.
 */
export async function redeemLoginCode(
  deps: { archive: ArchiveClient },
  input: { email: unknown; code: unknown; ip: string | null },
): Promise<S3Keys> {
  const email = validEmail(input.email);
  const code = codeSchema.safeParse(input.code);
  if (!code.success) throw new AppError('invalid_code', 'malformed_code');

  const redeemed = await deps.archive.redeemOtp(email, code.data, input.ip);
  if (!redeemed.success) throw refusalFor(redeemed.reason);

  // Keys from the answer (legacy xauthn), else issue_key with the token redeem_otp returned.
  let s3Keys: S3Keys | null = redeemed.s3Keys;
  if (!s3Keys && redeemed.token) s3Keys = await deps.archive.issueKey({ email, token: redeemed.token });
  // Open Library's `otp_redeem_incomplete`: archive.org accepted the code but gave no way to the keys.
  if (!s3Keys)
    throw new AppError('archive_unavailable', 'otp_redeem_incomplete: no keys and issue_key refused');

  return s3Keys;
}
