// Database failures reach callers (and logs) as a StoreDatabaseError: the driver's message, minus anything that
// could carry a value we sent (PostgreSQL's DETAIL/WHERE are dropped, quoted literals redacted), never a password.
// The original error is not attached as `cause`, because loggers serialise causes with all their fields.

export class StoreDatabaseError extends Error {
  constructor(
    message: string,
    /** SQLSTATE (PostgreSQL) or SQLite result code, when the driver gave one. */
    readonly code: string | undefined,
  ) {
    super(message);
    this.name = 'StoreDatabaseError';
  }
}

const SAFE_QUOTED = /^(?:accounts|schema_migrations)[a-z_]*$/;

function redactQuoted(message: string, keep: ReadonlySet<string>): string {
  return message.replace(/"([^"]*)"/g, (whole, inner: string) =>
    SAFE_QUOTED.test(inner) || keep.has(inner) ? whole : '"…"',
  );
}

function errorFields(error: unknown): { message: string; code: string | undefined } {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return { message: error.message, code: typeof code === 'string' ? code : undefined };
  }
  return { message: String(error), code: undefined };
}

export function sanitizePostgresError(
  error: unknown,
  operation: string,
  options: { password?: string | undefined; schema?: string | undefined } = {},
): StoreDatabaseError {
  if (error instanceof StoreDatabaseError) return error;
  const fields = errorFields(error);
  const code = fields.code;
  let message = fields.message;
  if (options.password) message = message.split(options.password).join('***');
  message = redactQuoted(message, new Set(options.schema ? [options.schema] : []));
  const where = code ? `PostgreSQL error ${code}` : 'PostgreSQL error';
  return new StoreDatabaseError(`${where} during ${operation}: ${message}`, code);
}

export function sanitizeSqliteError(error: unknown, operation: string): StoreDatabaseError {
  if (error instanceof StoreDatabaseError) return error;
  // SQLite's messages name tables, columns and constraints, never the values bound to a statement.
  const { message, code } = errorFields(error);
  return new StoreDatabaseError(
    `SQLite error${code ? ` ${code}` : ''} during ${operation}: ${message}`,
    code,
  );
}

const OUTAGE_CODES = new Set([
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

const OUTAGE_MESSAGES =
  /Connection terminated|connection timeout|The database connection is not open|Cannot use a pool after calling end/i;

/**
 * True when a store error means "the database is down or busy" rather than "our code is wrong", judged from the
 * driver's code (connection errors, SQLSTATE class 08, server shutdown, SQLite busy/locked/I/O) or message.
 * A host that can ping the database should prefer that test; this one needs nothing but the error.
 */
export function isDatabaseOutage(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (OUTAGE_CODES.has(code) || code.startsWith('08') || code.startsWith('SQLITE_IOERR')) return true;
  }
  if (error instanceof AggregateError) return error.errors.some(isDatabaseOutage);
  return OUTAGE_MESSAGES.test(error.message);
}
