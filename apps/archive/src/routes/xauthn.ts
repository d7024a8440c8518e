import type { Context } from 'koa';
import { z } from 'zod';
import { bodyObject, reply, shortString } from '../http';
import { verifyPassword } from '../passwords';
import { sameSecret, type ArchiveState } from '../state';

const querySchema = z.object({ op: z.enum(['authenticate', 'info', 'issue_key']) });
const serviceKeysSchema = z.object({ access: shortString, secret: shortString });
const authenticateSchema = z.object({ email: shortString, password: shortString });
const infoSchema = z.union([
  z.object({ email: shortString, itemname: z.undefined() }),
  z.object({ itemname: shortString, email: z.undefined() }),
]);
const issueKeySchema = z.object({
  key_type: z.literal('s3').optional(),
  token: shortString.optional(),
  email: shortString.optional(),
  itemname: shortString.optional(),
});

const badRequest = (ctx: Context, detail: string) =>
  reply(ctx, 400, { success: false, error: 'bad_request', values: { reason: 'bad_request', detail } });

/** POST /services/xauthn/?op=authenticate|info|issue_key, JSON body with our service keys `access`/`secret`. */
export async function xauthn(ctx: Context, state: ArchiveState): Promise<void> {
  if (ctx.method !== 'POST') return reply(ctx, 405, { success: false, error: 'method_not_allowed' });
  const query = querySchema.safeParse(ctx.query);
  if (!query.success) return badRequest(ctx, 'unknown or missing op');
  const body = bodyObject(ctx);
  if (!body) return badRequest(ctx, 'body must be a JSON object');

  const service = serviceKeysSchema.safeParse(body);
  const serviceOk =
    service.success &&
    sameSecret(service.data.access, state.serviceKeys.access) &&
    sameSecret(service.data.secret, state.serviceKeys.secret);
  if (!serviceOk) return reply(ctx, 403, { success: false, error: 'security_error' });

  switch (query.data.op) {
    case 'authenticate':
      return authenticate(ctx, state, body);
    case 'info':
      return info(ctx, state, body);
    case 'issue_key':
      return issueKey(ctx, state, body);
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
      has_disability_access: false,
    },
  });
}

function issueKey(ctx: Context, state: ArchiveState, body: Record<string, unknown>): void {
  const input = issueKeySchema.safeParse(body);
  if (!input.success) return badRequest(ctx, 'key_type must be "s3"; token, email, itemname strings');
  const patron = input.data.token ? state.patronByToken(input.data.token) : null;
  const matches =
    patron !== null &&
    (input.data.email === undefined || input.data.email.trim().toLowerCase() === patron.email) &&
    (input.data.itemname === undefined || input.data.itemname === patron.itemname);
  if (!patron || !matches) return reply(ctx, 401, { success: false, values: { reason: 'invalid_token' } });
  reply(ctx, 200, { success: true, version: 1, s3: { ...patron.s3 }, ttl: 3600 });
}
