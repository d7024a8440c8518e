import { isIP } from 'node:net';
import type { Context } from 'koa';
import { z } from 'zod';
import { reply, shortString, xauthnBadRequest as badRequest } from '../http';
import { OTP_TTL_MS } from '../otp';
import type { ArchiveState } from '../state';

// xauthn's emailed one-time codes as OL calls them (InternetArchiveAccount.issue_otp / redeem_otp in
// openlibrary/accounts/model.py, the handlers /account/login/otp/issue and /redeem in
// openlibrary/plugins/upstream/account.py): `issue_otp {email, service:"ol"}` and
// `redeem_otp {email, password:<code>}`, both with the header `X-Originating-IP` (the patron's address).
const issueSchema = z.object({ email: z.email().max(254), service: z.string().max(64).optional() });
const redeemSchema = z.object({ email: z.string().max(254), password: shortString });

/** The patron's address from X-Originating-IP: null when absent, undefined when it is not an IP address. */
function originatingIp(ctx: Context): string | null | undefined {
  const header = ctx.get('x-originating-ip').trim();
  if (header === '') return null;
  return isIP(header) ? header.toLowerCase() : undefined;
}

const normalise = (email: unknown) => (typeof email === 'string' ? email.trim().toLowerCase() : email);

/**
 * issue_otp: `{success:true, version:1}` for every well-formed email, known or not, so the answer tells nothing
 * about accounts; the code goes to the outbox only for an account. Too many requests for one email or from one
 * IP: 429 `{success:false, error:"rate_limited", code:429}` with Retry-After (OL reads the 429 from `code`).
 */
export function issueOtp(ctx: Context, state: ArchiveState, body: Record<string, unknown>): void {
  const input = issueSchema.safeParse({ email: normalise(body.email), service: body.service });
  if (!input.success) return badRequest(ctx, 'email must be an email address, service a string');
  const ip = originatingIp(ctx);
  if (ip === undefined) return badRequest(ctx, 'X-Originating-IP must be an IP address');

  const decision = state.otp.admit(input.data.email, ip);
  if (!decision.allowed) {
    ctx.set('Retry-After', String(decision.retryAfterSeconds));
    return reply(ctx, 429, { success: false, version: 1, error: 'rate_limited', code: 429 });
  }
  const patron = state.patronByEmail(input.data.email);
  if (patron) send(state, patron.email, state.otp.issue(patron.email));
  reply(ctx, 200, { success: true, version: 1 });
}

function send(state: ArchiveState, to: string, code: string): void {
  const minutes = OTP_TTL_MS / 60_000;
  state.outbox.add({
    to,
    subject: 'Your one-time login code',
    text: `Your one-time login code is ${code}. It expires in ${minutes} minutes and works once.`,
    code,
    sentAt: state.now().toISOString(),
  });
  if (!state.production) {
    state.log(`[outbox] one-time login code for ${to}: ${code} (development only; also GET /_dev/outbox)`);
  }
}

/**
 * redeem_otp: `{success:true, version:1, values:{email, itemname, screenname, token}}` (plus `s3` for a patron
 * whose xauthn still answers the legacy shape); the token works for issue_key. A wrong, expired, used or burnt
 * code, or an unknown email: `{success:false, error:"invalid_otp"}`. The right code of a locked or unverified
 * account is used up and answers `account_locked` / `account_not_verified`, as authenticate does.
 */
export function redeemOtp(ctx: Context, state: ArchiveState, body: Record<string, unknown>): void {
  const input = redeemSchema.safeParse(body);
  if (!input.success) return badRequest(ctx, 'email and password (the code) must be strings');
  if (originatingIp(ctx) === undefined) return badRequest(ctx, 'X-Originating-IP must be an IP address');
  const email = input.data.email.trim().toLowerCase();
  const fail = (reason: string) =>
    reply(ctx, 200, { success: false, version: 1, error: reason, values: { reason } });

  const redeemed = state.otp.redeem(email, input.data.password);
  const patron = state.patronByEmail(email);
  if (!redeemed || !patron) return fail('invalid_otp');
  if (patron.locked) return fail('account_locked');
  if (!patron.verified) return fail('account_not_verified');
  reply(ctx, 200, {
    success: true,
    version: 1,
    values: {
      email: patron.email,
      itemname: patron.itemname,
      screenname: patron.screenname,
      token: state.issueToken(patron),
      ...(patron.authenticateShape === 'legacy' ? { s3: { ...patron.s3 } } : {}),
    },
  });
}
