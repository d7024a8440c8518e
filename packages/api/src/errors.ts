// Domain errors (AppError and friends) turned into tRPC errors with a stable `appCode`.
import { TRPCError } from '@trpc/server';
import type { TRPC_ERROR_CODE_KEY } from '@trpc/server';
import { AppError, ArchiveConfigError, RevisionConflictError } from '@lending/accounts';
import type { AppErrorCode } from '@lending/accounts';

/** The tRPC code (and so the HTTP status) of each domain error. */
export const TRPC_CODE_OF: Record<AppErrorCode, TRPC_ERROR_CODE_KEY> = {
  invalid_email: 'BAD_REQUEST',
  invalid_credentials: 'UNAUTHORIZED',
  account_locked: 'FORBIDDEN',
  account_blocked: 'FORBIDDEN',
  ia_account_not_verified: 'FORBIDDEN',
  invalid_s3keys: 'UNAUTHORIZED',
  // Five username collisions in a row while creating the account: a retry usually succeeds.
  max_retries_exceeded: 'CONFLICT',
  rate_limited: 'TOO_MANY_REQUESTS',
  s3_keys_missing: 'UNAUTHORIZED',
  lending_limit: 'CONFLICT',
  not_found: 'NOT_FOUND',
  archive_unavailable: 'SERVICE_UNAVAILABLE',
};

/** What the patron reads; each says what to do next. Never holds a secret or an internal detail. */
export const MESSAGE_OF: Record<AppErrorCode, string> = {
  invalid_email: 'Enter a valid email address.',
  invalid_credentials: 'The email or password is incorrect. Check them and try again.',
  account_locked: 'This archive.org account is locked. Contact archive.org support to unlock it.',
  account_blocked: 'This account is blocked. Contact support if you think this is a mistake.',
  ia_account_not_verified:
    'Your archive.org account is not verified yet. Follow the link in the email archive.org sent you, then log in again.',
  invalid_s3keys:
    'archive.org refused these S3 keys. Check them at archive.org/account/s3.php, or log in again.',
  max_retries_exceeded: 'Your account could not be created just now. Try logging in again.',
  rate_limited: 'Too many login attempts. Wait a little and try again.',
  s3_keys_missing: 'Your session has no archive.org keys. Log in again to borrow books.',
  lending_limit:
    'archive.org refused this request: you may have reached the lending limit, or the book is not available. Return a book or try again later.',
  not_found: 'Not found. Check the book identifier.',
  archive_unavailable: 'archive.org is not answering right now. Try again in a minute.',
};

export const GENERIC_MESSAGE =
  'Something went wrong on our side. Try again; if it keeps happening, contact support.';
export const DATABASE_MESSAGE = 'The account database is not answering right now. Try again in a minute.';

// AppErrors raised here carry a patron-facing message; those from other packages get MESSAGE_OF.
const ownErrors = new WeakSet<AppError>();

/** An AppError with a patron-facing message (by default the one of its code). */
export function appError(code: AppErrorCode, options: { message?: string; detail?: string } = {}): AppError {
  const error = new AppError(code, options.message ?? MESSAGE_OF[code], options.detail);
  ownErrors.add(error);
  return error;
}

const DATABASE_DOWN_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'EPIPE',
  '53300', // too_many_connections
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  'SQLITE_BUSY',
  'SQLITE_LOCKED',
  'SQLITE_CANTOPEN',
  'SQLITE_FULL',
  'SQLITE_READONLY',
]);

/** Errors that mean "the database is down or busy" rather than "our code is wrong": answered with 503. */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  // The host's store guard (apps/server) raises this once a failed call is followed by a failed ping.
  if (error.name === 'DatabaseUnavailableError') return true;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (DATABASE_DOWN_CODES.has(code) || code.startsWith('08') || code.startsWith('SQLITE_IOERR'))
      return true;
  }
  if (error instanceof AggregateError) return error.errors.some(isDatabaseUnavailable);
  return /Connection terminated|connection timeout|The database connection is not open|Cannot use a pool after calling end/i.test(
    error.message,
  );
}

export interface MappedError {
  error: TRPCError;
  /** 'error' when an operator should look (a bug or a misconfiguration); else 'warn'/'info' or none. */
  log: 'error' | 'warn' | null;
}

/**
 * Turns whatever a resolver threw into the TRPCError the client sees. Errors we do not recognise get a
 * generic message: their text stays in our logs.
 */
export function mapError(thrown: TRPCError): MappedError {
  const cause = thrown.cause;
  if (thrown.code !== 'INTERNAL_SERVER_ERROR' || cause === undefined) return { error: thrown, log: null };
  if (cause instanceof AppError) {
    const message = ownErrors.has(cause) ? cause.message : MESSAGE_OF[cause.code];
    return { error: new TRPCError({ code: TRPC_CODE_OF[cause.code], message, cause }), log: null };
  }
  if (cause instanceof ArchiveConfigError) {
    const wrapped = new AppError('archive_unavailable', MESSAGE_OF.archive_unavailable, cause.message);
    return {
      error: new TRPCError({ code: 'SERVICE_UNAVAILABLE', message: wrapped.message, cause: wrapped }),
      log: 'error',
    };
  }
  if (cause instanceof RevisionConflictError) {
    return {
      error: new TRPCError({
        code: 'CONFLICT',
        message: 'Your account changed at the same moment. Try again.',
        cause,
      }),
      log: 'warn',
    };
  }
  if (isDatabaseUnavailable(cause)) {
    return {
      error: new TRPCError({ code: 'SERVICE_UNAVAILABLE', message: DATABASE_MESSAGE, cause }),
      log: 'error',
    };
  }
  return {
    error: new TRPCError({ code: 'INTERNAL_SERVER_ERROR', message: GENERIC_MESSAGE, cause }),
    log: 'error',
  };
}
