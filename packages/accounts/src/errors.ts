// The one domain error, AppError: a stable code, a detail for operators and a cause. It is what reaches clients
// (as `data.appCode`, with words chosen by each client) and logs (code, detail, cause chain). It holds no
// patron-facing wording. Below it, two errors that stay inside this package's store contract.

/** The stable codes of domain errors; clients receive them as `data.appCode` and word them themselves. */
export const APP_ERROR_CODES = [
  'invalid_email',
  /** A wrong password and an unknown account alike, so that nobody learns which emails have accounts. */
  'invalid_credentials',
  'account_locked',
  'account_blocked',
  'ia_account_not_verified',
  'invalid_s3keys',
  /** Five username collisions in a row while creating the account: a retry usually succeeds. */
  'max_retries_exceeded',
  'rate_limited',
  /** The session has no archive.org keys: the patron logs in again. */
  's3_keys_missing',
  /** archive.org's loans API refused (400/409) saying the patron's lending limit is reached. */
  'lending_limit',
  /** archive.org's loans API refused (400/409) otherwise: no copy free, or the item is locked for now. */
  'item_locked',
  /** archive.org's loans API refused (400) a book only print-disabled patrons may borrow. */
  'print_disabled_only',
  'not_found',
  /** A BookReader link was asked for a book the patron does not hold on loan now (returned, expired, never). */
  'not_borrowed',
  /** archive.org failed, timed out or answered nonsense: a retry may succeed. */
  'archive_unavailable',
  /** Too many archive.org calls at once (queue full or wait too long), or the request spent its budget. */
  'archive_busy',
  /** A tRPC batch with more calls than the server takes (MAX_BATCH_SIZE). */
  'batch_too_large',
  /** archive.org refused our own service keys: an operator must fix ARCHIVE_SERVICE_ACCESS / _SECRET. */
  'archive_misconfigured',
  /** The account record kept changing under a read-modify-write: a retry usually succeeds. */
  'revision_conflict',
  /** The account database does not answer. */
  'database_unavailable',
  /** Every database connection is busy, or a query waited too long (statement, lock or answer): retry soon. */
  'database_busy',
  /** A one-time login code archive.org did not accept: wrong, expired, already used, or burnt by wrong tries. */
  'invalid_code',
] as const;
export type AppErrorCode = (typeof APP_ERROR_CODES)[number];

export interface AppErrorOptions {
  /** What led to this error: logged with its name, message and stack, never sent to a client. */
  cause?: unknown;
  /** Seconds after which the same request may succeed (sent to clients as `data.retryAfter`). */
  retryAfterSeconds?: number;
}

/**
 * A failure with a stable code. `detail` says what happened for operators, in log lines only; it never holds a
 * secret (no keys, passwords, cookie values or tokens) and is never sent to a client.
 */
export class AppError extends Error {
  readonly code: AppErrorCode;
  readonly detail: string;
  readonly retryAfterSeconds: number | undefined;

  constructor(code: AppErrorCode, detail: string, options: AppErrorOptions = {}) {
    super(`${code}: ${detail}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.detail = detail;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

/** True when `error` is an AppError, with that code when one is given. */
export function isAppError(error: unknown, code?: AppErrorCode): error is AppError {
  return error instanceof AppError && (code === undefined || error.code === code);
}

/** A store's update found another revision than expected (a lost update refused): re-read and retry. */
export class RevisionConflictError extends AppError {
  constructor(readonly username: string) {
    super('revision_conflict', `account ${username} was changed by another writer; read it again and retry`);
    this.name = 'RevisionConflictError';
  }
}

// The two below stay inside the store contract: audit and seeding handle them (a taken username is retried, a
// lost creation race re-read), so they never reach a client. Should one escape, it is a fault (500, logged).

/** `create` found the username, email or itemname taken. */
export class AccountExistsError extends Error {
  constructor(readonly field: 'username' | 'email' | 'itemname') {
    super(`An account with this ${field} already exists`);
    this.name = 'AccountExistsError';
  }
}

/** `update` or `saveS3Keys` found no account of that username. */
export class AccountNotFoundError extends Error {
  constructor(readonly username: string) {
    super(`No account named ${username}`);
    this.name = 'AccountNotFoundError';
  }
}

/** One error of a cause chain as log lines carry it. */
export interface LoggedError {
  name: string;
  message: string;
  /** A driver's or system error code (`ECONNREFUSED`, `57P01`, `SQLITE_BUSY`) when it has one. */
  code?: string;
  stack?: string;
}

const MAX_CAUSES = 8;

/**
 * The cause chain of `error` for a log line, outermost first: each error's name, message and (with `stacks`)
 * stack, and nothing else. Other fields are left out on purpose: a driver's error can carry the values of a
 * query (PostgreSQL's `detail`, `where`), and the messages that reach here were written to hold no secret.
 */
export function causeChain(error: unknown, options: { stacks: boolean }): LoggedError[] {
  const chain: LoggedError[] = [];
  const seen = new Set<unknown>();
  for (let e: unknown = error; e !== undefined && e !== null && chain.length < MAX_CAUSES;) {
    if (seen.has(e)) break;
    seen.add(e);
    if (!(e instanceof Error)) {
      // Its text is unknown and could be anything: only its type is logged.
      chain.push({ name: typeof e, message: 'a thrown value that is not an Error' });
      break;
    }
    const entry: LoggedError = { name: e.name, message: e.message };
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && !(e instanceof AppError)) entry.code = code;
    if (options.stacks && e.stack !== undefined) entry.stack = e.stack;
    chain.push(entry);
    e = e instanceof AggregateError && e.cause === undefined ? e.errors[0] : e.cause;
  }
  return chain;
}
