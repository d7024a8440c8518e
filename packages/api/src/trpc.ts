// The one tRPC instance: plain JSON (no transformer); errors carry a stable `data.appCode` (with
// `data.retryAfter` when a retry has a time) and zod's field errors. What a procedure threw becomes the client's
// error in one place, the error formatter (toClientError from errors.ts): its code, message and status
// (`data.httpStatus`, which tRPC's handlers and this server's adapter answer with).
import { initTRPC, TRPCError } from '@trpc/server';
import { TRPC_ERROR_CODES_BY_KEY } from '@trpc/server/rpc';
import { getHTTPStatusCodeFromError } from '@trpc/server/http';
import { z } from 'zod';
import type { Context } from './context';
import { appErrorOf, INTERNAL_MESSAGE, toClientError } from './errors';

/** Field errors of an input that failed validation, e.g. `{ email: ['Too big: …'] }`. */
export type FieldErrors = Record<string, string[]>;

function fieldErrorsOf(cause: unknown): FieldErrors | undefined {
  if (!(cause instanceof z.ZodError)) return undefined;
  const flat = z.flattenError(cause).fieldErrors as Record<string, string[] | undefined>;
  const fieldErrors: FieldErrors = {};
  for (const [field, messages] of Object.entries(flat)) if (messages) fieldErrors[field] = messages;
  return fieldErrors;
}

function describeIssues(error: z.ZodError): string {
  const parts = error.issues.map((issue) =>
    issue.path.length > 0 ? `${issue.path.map(String).join('.')}: ${issue.message}` : issue.message,
  );
  return `Invalid input. ${parts.join('; ')}`;
}

const t = initTRPC.context<Context>().create({
  // Stack traces are internals: never sent, whatever NODE_ENV says.
  isDev: false,
  errorFormatter({ shape, error: thrown }) {
    // Whatever threw (a procedure, the context, tRPC itself): its code, neutral message and status from here.
    const error = toClientError(thrown);
    const appError = appErrorOf(error);
    const fieldErrors = error.code === 'BAD_REQUEST' ? fieldErrorsOf(error.cause) : undefined;
    let message = error.message;
    if (fieldErrors && error.cause instanceof z.ZodError) message = describeIssues(error.cause);
    else if (error.code === 'INTERNAL_SERVER_ERROR') message = INTERNAL_MESSAGE;
    return {
      ...shape,
      message,
      code: TRPC_ERROR_CODES_BY_KEY[error.code],
      data: {
        ...shape.data,
        // tRPC's, from the client error's code.
        code: error.code,
        httpStatus: getHTTPStatusCodeFromError(error),
        ...(appError === undefined ? {} : { appCode: appError.code }),
        ...(appError?.retryAfterSeconds === undefined ? {} : { retryAfter: appError.retryAfterSeconds }),
        ...(fieldErrors === undefined ? {} : { fieldErrors }),
      },
    };
  },
});

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;

/**
 * No middleware of its own: what a procedure throws becomes the client's error in the error formatter, and the
 * host's log line in failureLog (errors.ts). Each tRPC middleware copies the call's options twice per call.
 */
export const publicProcedure = t.procedure;

/** Needs a valid session; narrows `ctx.session` to the logged-in patron. */
export const protectedProcedure = publicProcedure.use(async ({ ctx, next }) => {
  const session = await ctx.getSession();
  if (!session) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'Log in to continue.' });
  return next({ ctx: { session } });
});
