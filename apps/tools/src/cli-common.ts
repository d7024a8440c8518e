// Helpers shared by the command-line tools: usage errors, number flags, safe display of database URLs.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

/** Bad usage: the message says what was wrong; the caller prints it with the usage text and exits 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The streams and terminal facts a command needs, so tests can drive it without a real terminal. */
export interface CliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
}

export function parseIntegerFlag(
  name: string,
  raw: string | undefined,
  min: number,
  max: number,
): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw.trim())) throw new UsageError(`--${name} must be a whole number, got "${raw}"`);
  const value = Number(raw.trim());
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new UsageError(`--${name} must be between ${min} and ${max}, got ${raw}`);
  }
  return value;
}

/** Turns parseArgs' own errors (unknown flag, missing value) into a UsageError with a plain message. */
export function asUsageError(error: unknown): unknown {
  if (error instanceof TypeError && 'code' in error && typeof error.code === 'string') {
    if (error.code.startsWith('ERR_PARSE_ARGS_')) {
      // parseArgs messages end with a hint about '--' that does not apply here.
      return new UsageError(error.message.replace(/\. To specify a positional argument.*$/s, ''));
    }
  }
  return error;
}

/** A database URL fit for output: any password is replaced. */
export function displayDatabaseUrl(databaseUrl: string): string {
  if (!/^postgres(ql)?:\/\//i.test(databaseUrl)) return databaseUrl;
  try {
    const url = new URL(databaseUrl);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return 'postgres://(unparseable URL)';
  }
}

export function checkDatabaseUrl(databaseUrl: string): void {
  if (/^sqlite:/i.test(databaseUrl)) return;
  if (/^postgres(ql)?:\/\//i.test(databaseUrl)) {
    if (URL.canParse(databaseUrl)) return;
    // Never echo it: the unparseable part is often the password.
    throw new UsageError(
      '--database-url is not a valid postgres:// URL (percent-encode characters such as @, # or / in the password)',
    );
  }
  throw new UsageError(
    `--database-url must start with sqlite: or postgres://, got "${displayDatabaseUrl(databaseUrl)}"`,
  );
}

/** For `sqlite:<path>`: the file path (null for `sqlite::memory:` and for PostgreSQL URLs). */
export function sqlitePath(databaseUrl: string): string | null {
  const match = /^sqlite:(.*)$/i.exec(databaseUrl);
  if (!match?.[1] || match[1] === ':memory:') return null;
  return resolve(match[1]);
}

/** Opening a missing SQLite file would create an empty store: refuse instead. */
export function assertSqliteFileExists(databaseUrl: string): void {
  const path = sqlitePath(databaseUrl);
  if (path !== null && !existsSync(path)) {
    throw new UsageError(`no SQLite database at ${path}: check --database-url or DATABASE_URL`);
  }
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes} min ${Math.round(seconds - minutes * 60)} s`;
}

export function formatCount(value: number): string {
  return value.toLocaleString('en-US');
}
