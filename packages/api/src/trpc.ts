// The one tRPC instance: plain JSON (no transformer), errors with a stable appCode and zod field errors.
import { initTRPC, TRPCError } from '@trpc/server';
import { AppError } from '@lending/accounts';
import type { AppErrorCode } from '@lending/accounts';
import { z } from 'zod';
import type { Context } from './context';
import { mapError } from './errors';

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
    const appCode: AppErrorCode | undefined = error.cause instanceof AppError ? error.cause.code : undefined;
    const fieldErrors = error.code === 'BAD_REQUEST' ? fieldErrorsOf(error.cause) : undefined;
    return {
      ...shape,
      message: fieldErrors && error.cause instanceof z.ZodError ? describeIssues(error.cause) : shape.message,
      data: {
        ...shape.data,
        ...(appCode === undefined ? {} : { appCode }),
        ...(fieldErrors === undefined ? {} : { fieldErrors }),
      },
    };
  },
});

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;

const loggedErrors = new WeakSet<object>();

/**
 * True for an error a procedure has already logged (with its cause's stack), so that a host logging failed
 * calls can skip it rather than log the same fault twice.
 */
export function isLoggedError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && loggedErrors.has(error);
}

/** Maps domain errors to tRPC codes; hides and logs anything unexpected. */
const errorMapping = t.middleware(async ({ ctx, next, path, type }) => {
  const result = await next();
  if (result.ok) return result;
  const { error, log } = mapError(result.error);
  if (log !== null) {
    const cause = result.error.cause ?? result.error;
    ctx.req.log[log](
      { path, type, err: { name: cause.name, message: cause.message, stack: cause.stack } },
      'procedure failed',
    );
    loggedErrors.add(error);
  }
  if (error === result.error) return result;
  throw error;
});

export const publicProcedure = t.procedure.use(errorMapping);

/** Needs a valid session; narrows `ctx.session` to the logged-in patron. */
export const protectedProcedure = publicProcedure.use(async ({ ctx, next }) => {
  const session = await ctx.getSession();
  if (!session) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'Log in to continue.' });
  return next({ ctx: { session } });
});
