// The shapes of archive.org's answers (zod), checked before anything is read from them: strings bounded and
// storable, archive.org's nulls for absent fields accepted, unknown fields ignored.
import { z } from 'zod';
import { isStorableString } from '../store/records';

/** A string the account store can keep as it is: bounded, no NUL, no lone surrogate. */
const text = (max: number) => z.string().max(max).refine(isStorableString);
/** archive.org sometimes sends null for an absent field. */
const optionalText = (max: number) =>
  text(max)
    .nullish()
    .transform((value) => value ?? undefined);

export const authenticateSchema = z.union([
  z.object({
    success: z.literal(true),
    values: z.object({
      token: optionalText(4096),
      email: optionalText(320),
      screenname: optionalText(256),
      itemname: optionalText(256),
      verified: z
        .boolean()
        .nullish()
        .transform((v) => v ?? undefined),
      locked: z
        .boolean()
        .nullish()
        .transform((v) => v ?? undefined),
      access: optionalText(256),
      secret: optionalText(256),
    }),
  }),
  z.object({ success: z.literal(false), values: z.object({ reason: z.string().max(256) }) }),
]);

export const infoSchema = z.union([
  z.object({
    success: z.literal(true),
    values: z.object({
      email: text(320),
      itemname: text(256).min(1),
      screenname: text(256),
      verified: z.boolean(),
      locked: z.boolean(),
      has_disability_access: z.boolean().nullish(),
    }),
  }),
  z.object({ success: z.literal(false) }),
]);

export const issueKeySchema = z.union([
  z.object({
    success: z.literal(true),
    s3: z.object({ access: text(256).min(1), secret: text(256).min(1) }),
  }),
  z.object({ success: z.literal(false) }),
]);

export const s3authSchema = z.union([
  z.object({
    authorized: z.literal(true),
    username: text(320).min(1),
    itemname: optionalText(256),
    screenname: optionalText(256),
  }),
  z.object({ authorized: z.literal(false) }),
]);

export const historySchema = z.object({
  history: z.object({
    items: z.array(
      z.object({
        identifier: z.string(),
        title: z.string().nullish(),
        action: z.string().nullish(),
        updatedate: z.string(),
      }),
    ),
  }),
});

/** archive.org's datetimes, "2026-06-25 16:57:45" (UTC), or ISO 8601. */
const iaDate = z
  .string()
  .max(64)
  .transform((value, ctx) => {
    const iso = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/.test(value) ? `${value.replace(' ', 'T')}Z` : value;
    const ms = Date.parse(iso);
    if (Number.isNaN(ms)) {
      ctx.addIssue({ code: 'custom', message: 'not a date' });
      return z.NEVER;
    }
    return new Date(ms).toISOString();
  });

/** The internal lending API's loan.query (OL's IA_Lending_API, Loan.from_ia_loan). */
export const loanQuerySchema = z.object({
  status: z.literal('ok'),
  result: z
    .array(
      z.looseObject({
        id: z.union([z.string().max(128), z.number()]).nullish(),
        identifier: text(256).min(1),
        created: iaDate,
        until: iaDate,
      }),
    )
    .max(1000),
});

/** waitinglist.query: the books the patron waits for. */
export const waitlistQuerySchema = z.object({
  status: z.literal('ok'),
  result: z.array(z.looseObject({ identifier: text(256).min(1) })).max(1000),
});

/** Availability v2 (OL's get_availability): `{responses: {<id>: {...}}}`; fields absent for unknown ids. */
export const availabilityV2Schema = z.object({
  responses: z.record(
    z.string().max(256),
    z.looseObject({
      status: z.string().max(64).nullish(),
      is_lendable: z.boolean().nullish(),
      is_printdisabled: z.boolean().nullish(),
      available_to_borrow: z.boolean().nullish(),
      available_to_browse: z.boolean().nullish(),
      available_to_waitlist: z.boolean().nullish(),
      num_waitlist: z.union([z.string().max(16), z.number()]).nullish(),
    }),
  ),
});

const count = z.number().int().nonnegative().default(0);
export const lendingStatusSchema = z.object({
  lending_status: z.object({
    is_lendable: z.boolean(),
    is_printdisabled: z
      .boolean()
      .nullish()
      .transform((v) => v ?? undefined),
    available_to_borrow: z.boolean(),
    available_to_browse: z.boolean(),
    available_to_waitlist: z.boolean(),
    copies: count,
    available_copies: count,
    users_on_waitlist: count,
    user_has_borrowed: z.boolean().optional(),
    user_has_browsed: z.boolean().optional(),
    user_on_waitlist: z.boolean().optional(),
  }),
});

export const searchSchema = z.object({
  response: z.object({ numFound: z.number(), docs: z.array(z.unknown()) }),
});
const oneOrMany = z.union([z.string(), z.array(z.string())]);
export const docSchema = z.object({
  identifier: z.string().min(1),
  title: oneOrMany.optional(),
  creator: oneOrMany.optional(),
  year: z.union([z.number(), z.string()]).nullish(),
});

export const jsonObject = z.record(z.string(), z.unknown());

/**
 * Patron S3 keys archive.org can take: access keys never hold ':' (it separates them in `LOW access:secret`);
 * both are printable ASCII.
 */
export const s3KeysSchema = z.object({
  access: z.string().regex(/^[\x21-\x39\x3b-\x7e]{1,256}$/),
  secret: z.string().regex(/^[\x21-\x7e]{1,256}$/),
});
