// Inputs, validated at the edge. Formats the audit checks itself (the email) are only bounded here,
// so that a malformed email gets the domain code `invalid_email`.
import { z } from 'zod';

export const identifier = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[A-Za-z0-9._-]+$/, 'Use letters, digits, dots, dashes and underscores only');

export const loginInput = z.object({
  email: z.string().max(254),
  password: z.string().min(1).max(1024),
  remember: z.boolean().optional(),
});

export const loginWithKeysInput = z.object({
  access: z.string().min(1).max(256),
  secret: z.string().min(1).max(256),
  remember: z.boolean().optional(),
});

export const requestCodeInput = z.object({ email: z.string().max(254) });

export const loginWithCodeInput = z.object({
  email: z.string().max(254),
  code: z.string().min(1).max(64),
  remember: z.boolean().optional(),
});

/** At most this many books a page (one availability call serves a page). */
export const MAX_PAGE_SIZE = 100;

export const booksListInput = z
  .object({
    query: z.string().max(200).optional(),
    /** 1-based; deep enough for the whole catalogue at the smallest page size. */
    page: z.number().int().min(1).max(10_000).optional(),
    pageSize: z.number().int().min(1).max(MAX_PAGE_SIZE).optional(),
  })
  .optional();

export const borrowInput = z.object({
  identifier,
  action: z.enum(['borrow', 'browse']).optional(),
});

export const identifierInput = z.object({ identifier });

export const historyInput = z
  .object({
    limit: z.number().int().min(1).max(100).optional(),
    offset: z.number().int().min(0).max(10000).optional(),
  })
  .optional();
