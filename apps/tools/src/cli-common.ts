// Helpers shared by the command-line tools: usage errors, number and duration flags, database URLs, formatting.
import { existsSync } from 'node:fs';
import { parseDatabaseUrl } from '@lending/accounts';
import type { DatabaseTarget } from '@lending/accounts';

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

const DURATION_UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** A duration flag: seconds, or a number with s, m, h or d ("90s", "10m", "24h", "7d"). */
export function parseDurationFlag(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const match = /^(\d+)\s*([smhd]?)$/.exec(raw.trim());
  const seconds = match ? Number(match[1]) * (DURATION_UNITS[match[2] || 's'] ?? 1) : NaN;
  if (!Number.isSafeInteger(seconds) || seconds <= 0) {
    throw new UsageError(`--${name} must be a duration such as 90s, 10m, 24h or 7d, got "${raw}"`);
  }
  return seconds;
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

/**
 * The --database-url (or DATABASE_URL) value, checked by the accounts package's parser; its messages never repeat
 * the URL, which may hold a password.
 */
export function checkDatabaseUrl(databaseUrl: string): DatabaseTarget {
  try {
    return parseDatabaseUrl(databaseUrl);
  } catch (error) {
    throw new UsageError(`--database-url: ${(error as Error).message}`);
  }
}

/** Opening a missing SQLite file would create an empty store, and one in memory is another process's: refuse. */
export function assertSqliteFileExists(target: DatabaseTarget): void {
  if (target.kind !== 'sqlite') return;
  if (target.filename === ':memory:') {
    throw new UsageError('sqlite::memory: belongs to the process that opened it: name the database file');
  }
  if (!existsSync(target.filename)) {
    throw new UsageError(`no SQLite database at ${target.filename}: check --database-url or DATABASE_URL`);
  }
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes} min ${Math.round(seconds - minutes * 60)} s`;
}

/** "4 s", "12 min", "3.5 h", "2.0 days": how long ago, or how long, in the unit a reader expects. */
export function describeSeconds(seconds: number): string {
  if (seconds < 120) return `${Math.round(seconds)} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172800) return `${(seconds / 3600).toFixed(1)} h`;
  return `${(seconds / 86400).toFixed(1)} days`;
}

export function formatCount(value: number): string {
  return value.toLocaleString('en-US');
}
