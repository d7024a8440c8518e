// The one tRPC instance: plain JSON (no transformer); errors carry a stable `data.appCode` (with
// `data.retryAfter` when a retry has a time) and zod's field errors. The status of every error is the one its tRPC
// code means (`data.httpStatus`), decided by toClientError from errors.ts.
import { initTRPC, TRPCError } from '@trpc/server';
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
  errorFormatter({ shape, error }) {
    const appError = appErrorOf(error);
    const fieldErrors = error.code === 'BAD_REQUEST' ? fieldErrorsOf(error.cause) : undefined;
    let message = shape.message;
    if (fieldErrors && error.cause instanceof z.ZodError) message = describeIssues(error.cause);
    // A fault that did not pass through toClientError (the context, tRPC itself) still says nothing.
    else if (error.code === 'INTERNAL_SERVER_ERROR') message = INTERNAL_MESSAGE;
    return {
      ...shape,
      message,
      data: {
        // `code` and `httpStatus`: tRPC's, from the error's code.
        ...shape.data,
        ...(appError === undefined ? {} : { appCode: appError.code }),
        ...(appError?.retryAfterSeconds === undefined ? {} : { retryAfter: appError.retryAfterSeconds }),
        ...(fieldErrors === undefined ? {} : { fieldErrors }),
      },
    };
  },
});

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;

/** Gives what a procedure threw its client-facing code and message (errors.ts); logging is the host's onError. */
const clientErrors = t.middleware(async ({ next }) => {
  const result = await next();
  if (result.ok) return result;
  const error = toClientError(result.error);
  if (error === result.error) return result;
  throw error;
});

export const publicProcedure = t.procedure.use(clientErrors);

/** Needs a valid session; narrows `ctx.session` to the logged-in patron. */
export const protectedProcedure = publicProcedure.use(async ({ ctx, next }) => {
  const session = await ctx.getSession();
  if (!session) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'Log in to continue.' });
  return next({ ctx: { session } });
});
