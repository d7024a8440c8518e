// How a failed call reaches clients and logs. Each AppError code has one entry: its tRPC code (which fixes the
// HTTP status, through tRPC's own table; the error formatter sends it as `data.httpStatus` and hosts answer with
// it), the neutral English sentence sent as `message` for clients without words of their own (curl, other
// languages), and the level of its log line. Anything else a procedure throws is a fault: a 500 whose text stays
// in the log.
import { AppError, causeChain, isDatabaseOutage } from '@lending/accounts';
import type { AppErrorCode, LoggedError } from '@lending/accounts';
import { TRPCError } from '@trpc/server';
import type { TRPC_ERROR_CODE_KEY } from '@trpc/server';
import { getHTTPStatusCodeFromError } from '@trpc/server/http';

export type LogLevel = 'info' | 'warn' | 'error';

export interface ErrorContract {
  trpcCode: TRPC_ERROR_CODE_KEY;
  /** What the API says: what happened, in plain English; never a secret, never an internal detail. */
  message: string;
  /** info: the request was refused; warn: a retry may succeed; error: an operator should look. */
  log: LogLevel;
}

/** Every code has an entry: a new code without one fails the typecheck. */
export const API_ERRORS: Record<AppErrorCode, ErrorContract> = {
  invalid_email: { trpcCode: 'BAD_REQUEST', message: 'The email address is not valid.', log: 'info' },
  invalid_credentials: {
    trpcCode: 'UNAUTHORIZED',
    message: 'The email or password is incorrect.',
    log: 'info',
  },
  account_locked: { trpcCode: 'FORBIDDEN', message: 'The archive.org account is locked.', log: 'info' },
  account_blocked: { trpcCode: 'FORBIDDEN', message: 'The account is blocked.', log: 'info' },
  ia_account_not_verified: {
    trpcCode: 'FORBIDDEN',
    message: 'The archive.org account is not verified.',
    log: 'info',
  },
  invalid_s3keys: { trpcCode: 'UNAUTHORIZED', message: 'archive.org refused the S3 keys.', log: 'info' },
  max_retries_exceeded: {
    trpcCode: 'CONFLICT',
    message: 'The account could not be created; a retry may succeed.',
    log: 'warn',
  },
  rate_limited: {
    trpcCode: 'TOO_MANY_REQUESTS',
    message: 'Too many login attempts; retry after the number of seconds in Retry-After.',
    log: 'info',
  },
  s3_keys_missing: {
    trpcCode: 'UNAUTHORIZED',
    message: 'The session has no archive.org keys; log in again.',
    log: 'info',
  },
  lending_limit: {
    trpcCode: 'CONFLICT',
    message: 'archive.org refused the loan request: the lending limit is reached.',
    log: 'info',
  },
  item_locked: {
    trpcCode: 'CONFLICT',
    message: 'archive.org refused the loan request: no copy is free or the item is locked for now.',
    log: 'info',
  },
  print_disabled_only: {
    trpcCode: 'FORBIDDEN',
    message: 'archive.org refused the loan request: only print-disabled patrons may borrow this book.',
    log: 'info',
  },
  not_found: { trpcCode: 'NOT_FOUND', message: 'No such book or loan.', log: 'info' },
  not_borrowed: {
    trpcCode: 'FORBIDDEN',
    message: 'The patron does not have this book on loan now; borrow it to read it.',
    log: 'info',
  },
  archive_unavailable: {
    trpcCode: 'SERVICE_UNAVAILABLE',
    message: 'archive.org is not answering; a retry may succeed.',
    log: 'warn',
  },
  archive_busy: {
    trpcCode: 'SERVICE_UNAVAILABLE',
    message: 'Too many requests to archive.org at once; retry after the number of seconds in Retry-After.',
    log: 'warn',
  },
  batch_too_large: {
    trpcCode: 'BAD_REQUEST',
    message: 'Too many calls in one batch request.',
    log: 'info',
  },
  archive_misconfigured: {
    trpcCode: 'SERVICE_UNAVAILABLE',
    message: "archive.org refused this server's own credentials; an operator must fix its configuration.",
    log: 'error',
  },
  revision_conflict: {
    trpcCode: 'CONFLICT',
    message: 'The account changed during the request; a retry may succeed.',
    log: 'warn',
  },
  database_unavailable: {
    trpcCode: 'SERVICE_UNAVAILABLE',
    message: 'The account database is not answering; a retry may succeed.',
    log: 'error',
  },
  database_busy: {
    trpcCode: 'SERVICE_UNAVAILABLE',
    message: 'The account database is busy; a retry in a moment may succeed.',
    log: 'warn',
  },
  invalid_code: {
    trpcCode: 'UNAUTHORIZED',
    message: 'The one-time code is wrong, expired or already used; request a new one.',
    log: 'info',
  },
};

/** The message of a fault: nothing about it leaves the server. */
export const INTERNAL_MESSAGE = 'Internal server error.';

/** The domain error a failed call carries, if any. */
export function appErrorOf(error: TRPCError): AppError | undefined {
  return error.cause instanceof AppError ? error.cause : undefined;
}

/**
 * The TRPCError a client gets for what a procedure threw: an AppError's code and message from its contract; a
 * database error that looks like an outage as `database_unavailable` (for hosts that do not ping the database
 * themselves); any other unexpected error as a 500 with INTERNAL_MESSAGE. The thrown error stays its `cause`.
 */
export function toClientError(error: TRPCError): TRPCError {
  let appError = appErrorOf(error);
  if (!appError && error.code === 'INTERNAL_SERVER_ERROR' && isDatabaseOutage(error.cause)) {
    appError = new AppError('database_unavailable', 'a store call failed with a connection error', {
      cause: error.cause,
    });
  }
  if (appError) {
    const { trpcCode, message } = API_ERRORS[appError.code];
    if (error.code === trpcCode && error.message === message) return error;
    return new TRPCError({ code: trpcCode, message, cause: appError });
  }
  if (error.code === 'INTERNAL_SERVER_ERROR' && error.message !== INTERNAL_MESSAGE) {
    return new TRPCError({
      code: 'INTERNAL_SERVER_ERROR',
      message: INTERNAL_MESSAGE,
      cause: error.cause ?? error,
    });
  }
  return error;
}

export interface FailureLog {
  level: LogLevel;
  message: 'procedure refused' | 'procedure failed';
  fields: {
    status: number;
    code: TRPC_ERROR_CODE_KEY;
    appCode?: AppErrorCode;
    detail?: string;
    /** What was thrown and its causes, outermost first; stacks only above info. */
    causes: LoggedError[];
  };
}

/**
 * The one log line of a failed call, for the host's `onError`: its status and codes, the domain error's detail,
 * and the cause chain. A refusal is info, an outage warn or error, a fault error.
 */
export function failureLog(thrown: TRPCError): FailureLog {
  const error = toClientError(thrown);
  const appError = appErrorOf(error);
  const status = getHTTPStatusCodeFromError(error);
  const level: LogLevel = appError ? API_ERRORS[appError.code].log : status >= 500 ? 'error' : 'info';
  return {
    level,
    message: level === 'info' ? 'procedure refused' : 'procedure failed',
    fields: {
      status,
      code: error.code,
      ...(appError ? { appCode: appError.code, detail: appError.detail } : {}),
      causes: causeChain(error.cause ?? error, { stacks: level !== 'info' }),
    },
  };
}
