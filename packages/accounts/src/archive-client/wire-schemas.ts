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

export const loansSchema = z.object({
  loans: z.array(
    z.object({
      identifier: z.string(),
      title: z.string().nullish(),
      type: z.enum(['borrow', 'browse']),
      created: z.string(),
      until: z.string(),
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
/** A loans action that went through answers `{success: true, ...}`. */
export const loanDoneSchema = z.looseObject({ success: z.literal(true) });

/**
 * Patron S3 keys archive.org can take: access keys never hold ':' (it separates them in `LOW access:secret`);
 * both are printable ASCII.
 */
export const s3KeysSchema = z.object({
  access: z.string().regex(/^[\x21-\x39\x3b-\x7e]{1,256}$/),
  secret: z.string().regex(/^[\x21-\x7e]{1,256}$/),
});
