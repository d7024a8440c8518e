import type { Context } from 'koa';
import { z } from 'zod';

export function reply(ctx: Context, status: number, body: Record<string, unknown>): void {
  ctx.status = status;
  ctx.body = body;
}

/** xauthn's answer to a request it cannot read. */
export function xauthnBadRequest(ctx: Context, detail: string): void {
  reply(ctx, 400, { success: false, error: 'bad_request', values: { reason: 'bad_request', detail } });
}

/** The parsed request body as an object ({} when there is none), or null when it is not an object. */
export function bodyObject(ctx: Context): Record<string, unknown> | null {
  const body = ctx.request.body;
  if (body === undefined) return {};
  return typeof body === 'object' && body !== null && !Array.isArray(body)
    ? (body as Record<string, unknown>)
    : null;
}

/** A non-negative integer given as a number (JSON) or a string of digits (form, query). */
export const intField = z.union([
  z.number().int().nonnegative(),
  z
    .string()
    .regex(/^\d{1,9}$/)
    .transform(Number),
]);

/** Strings of bounded length, so nothing pathological reaches the lookups. */
export const shortString = z.string().max(1024);
