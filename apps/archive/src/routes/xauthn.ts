import type { Context } from 'koa';
import { z } from 'zod';
import { bodyObject, reply, shortString, xauthnBadRequest as badRequest } from '../http';
import { verifyPassword } from '../passwords';
import type { ArchiveState } from '../state';
import { issueOtp, redeemOtp } from './otp';

// OL's InternetArchiveAccount.xauth (openlibrary/accounts/model.py): POST ?op=<op>, a JSON body with the
// caller's service keys `access`/`secret`; answers are JSON with `success`, whatever the status.
const querySchema = z.object({
  op: z.enum(['authenticate', 'info', 'issue_key', 'issue_otp', 'redeem_otp']),
});
const serviceKeysSchema = z.object({ access: shortString, secret: shortString });
const authenticateSchema = z.object({ email: shortString, password: shortString });
const infoSchema = z.union([
  z.object({ email: shortString, itemname: z.undefined() }),
  z.object({ itemname: shortString, email: z.undefined() }),
]);
const issueKeySchema = z.object({
  key_type: z.literal('s3').optional(),
  /** Since OL #13086 (July 2026) the field is `issuer_token`; before that it was `token`. */
  issuer_token: shortString.optional(),
  token: shortString.optional(),
  email: shortString.optional(),
  itemname: shortString.optional(),
});

/** POST /services/xauthn/?op=authenticate|info|issue_key|issue_otp|redeem_otp */
export async function xauthn(ctx: Context, state: ArchiveState): Promise<void> {
  if (ctx.method !== 'POST') return reply(ctx, 405, { success: false, error: 'method_not_allowed' });
  const query = querySchema.safeParse(ctx.query);
  if (!query.success) return badRequest(ctx, 'unknown or missing op');
  const body = bodyObject(ctx);
  if (!body) return badRequest(ctx, 'body must be a JSON object');

  const service = serviceKeysSchema.safeParse(body);
  if (!service.success || !state.isServiceKeys(service.data.access, service.data.secret)) {
    return reply(ctx, 403, { success: false, error: 'security_error' });
  }

  switch (query.data.op) {
    case 'authenticate':
      return authenticate(ctx, state, body);
    case 'info':
      return info(ctx, state, body);
    case 'issue_key':
      return issueKey(ctx, state, body);
    case 'issue_otp':
      return issueOtp(ctx, state, body);
    case 'redeem_otp':
      return redeemOtp(ctx, state, body);
  }
}

async function authenticate(ctx: Context, state: ArchiveState, body: Record<string, unknown>): Promise<void> {
  const input = authenticateSchema.safeParse(body);
  if (!input.success) return badRequest(ctx, 'email and password must be strings');
  const patron = state.patronByEmail(input.data.email);
  const passwordOk = await verifyPassword(input.data.password, patron?.passwordHash ?? null);
  const fail = (reason: string) => reply(ctx, 200, { success: false, values: { reason } });
  if (!patron) return fail('account_not_found');
  if (!passwordOk) return fail('account_bad_password');
  if (patron.locked) return fail('account_locked');
  if (!patron.verified) return fail('account_not_verified');
  if (patron.authenticateShape === 'legacy') {
    // xauthn before #12942 answered with the patron's S3 keys themselves.
    return reply(ctx, 200, {
      success: true,
      version: 1,
      values: { access: patron.s3.access, secret: patron.s3.secret },
    });
  }
  reply(ctx, 200, {
    success: true,
    version: 1,
    values: {
      token: state.issueToken(patron),
      email: patron.email,
      screenname: patron.screenname,
      itemname: patron.itemname,
      verified: patron.verified,
      locked: patron.locked,
    },
  });
}

function info(ctx: Context, state: ArchiveState, body: Record<string, unknown>): void {
  const input = infoSchema.safeParse({ email: body.email, itemname: body.itemname });
  if (!input.success) return badRequest(ctx, 'give exactly one of email, itemname');
  const patron =
    input.data.email !== undefined
      ? state.patronByEmail(input.data.email)
      : state.patronByItemname(input.data.itemname);
  if (!patron) return reply(ctx, 200, { success: false, values: { reason: 'account_not_found' } });
  reply(ctx, 200, {
    success: true,
    version: 1,
    values: {
      email: patron.email,
      itemname: patron.itemname,
      screenname: patron.screenname,
      verified: patron.verified,
      locked: patron.locked,
      has_disability_access: patron.hasDisabilityAccess,
    },
  });
}

function issueKey(ctx: Context, state: ArchiveState, body: Record<string, unknown>): void {
  const input = issueKeySchema.safeParse(body);
  if (!input.success) return badRequest(ctx, 'key_type must be "s3"; issuer_token, email, itemname strings');
  if (state.strictProtocol && input.data.token !== undefined) {
    return badRequest(ctx, 'issue_key takes the token as issuer_token (token is its name before OL #13086)');
  }
  const token = input.data.issuer_token ?? input.data.token;
  const patron = token ? state.patronByToken(token) : null;
  const matches =
    patron !== null &&
    (input.data.email === undefined || input.data.email.trim().toLowerCase() === patron.email) &&
    (input.data.itemname === undefined || input.data.itemname === patron.itemname);
  if (!patron || !matches) return reply(ctx, 401, { success: false, values: { reason: 'invalid_token' } });
  reply(ctx, 200, { success: true, version: 1, s3: { ...patron.s3 }, ttl: 3600 });
}
