// The one reader of database URLs (`sqlite:<path>`, `postgres://…`): every app and tool parses, shows and
// defaults them through this module. Errors and displayed forms never carry a password.
import { resolve } from 'node:path';

/** Where the account store lives when DATABASE_URL is not set: a SQLite file under ./data. */
export const DEFAULT_DATABASE_URL = 'sqlite:./data/lending.db';

export type DatabaseTarget =
  | {
      kind: 'sqlite';
      /** An absolute path, or `:memory:`. */
      filename: string;
    }
  | {
      kind: 'postgres';
      /** The URL as pg and libpq take it: our own `schema` parameter removed, every other one kept. */
      connectionString: string;
      /** From `?schema=<name>`; absent: the connection's search_path decides. */
      schema: string | undefined;
    };

const USAGE = 'use sqlite:<path>, sqlite::memory: or postgres://user@host:port/db[?schema=name]';
const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;
const POSTGRES_SCHEME = /^postgres(?:ql)?:\/\//i;

/**
 * Parses a database URL. Errors name the problem and never repeat the URL (it may hold a password).
 * `sqlite:` paths are resolved against the current directory.
 */
export function parseDatabaseUrl(databaseUrl: string): DatabaseTarget {
  if (typeof databaseUrl !== 'string' || databaseUrl.trim() === '') {
    throw new Error(`Database URL is empty: ${USAGE}`);
  }
  const url = databaseUrl.trim();
  if (url.toLowerCase().startsWith('sqlite:')) {
    const path = url.slice('sqlite:'.length);
    if (path === ':memory:') return { kind: 'sqlite', filename: ':memory:' };
    if (path === '') throw new Error(`Database URL sqlite: has no file path: ${USAGE}`);
    if (path.startsWith('//')) {
      throw new Error(
        `Database URL sqlite://… is not supported; write sqlite:<path> (e.g. ${DEFAULT_DATABASE_URL})`,
      );
    }
    return { kind: 'sqlite', filename: resolve(path) };
  }
  if (POSTGRES_SCHEME.test(url)) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new Error(
        `Database URL is not a valid postgres:// URL (percent-encode characters such as @, # or / in the password): ${USAGE}`,
      );
    }
    if (!parsed.hostname && !parsed.searchParams.has('host')) {
      throw new Error(`Database URL postgres:// has no host: ${USAGE}`);
    }
    const schemas = parsed.searchParams.getAll('schema');
    if (schemas.length > 1) throw new Error('Database URL has more than one schema= parameter');
    const schema = schemas[0];
    if (schema !== undefined && !SCHEMA_NAME.test(schema)) {
      throw new Error(
        'Database URL schema= must be a plain identifier: a letter or _, then letters, digits or _ (at most 63)',
      );
    }
    parsed.searchParams.delete('schema');
    return { kind: 'postgres', connectionString: parsed.toString(), schema };
  }
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(url)?.[1];
  if (scheme) throw new Error(`Database URL scheme "${scheme}:" is not supported: ${USAGE}`);
  throw new Error(`Database URL has no scheme: ${USAGE}`);
}

/** The decoded password of a postgres:// URL, so that error messages can be scrubbed of it. */
export function databasePassword(connectionString: string): string | undefined {
  try {
    const password = decodeURIComponent(new URL(connectionString).password);
    return password || undefined;
  } catch {
    return undefined;
  }
}

/**
 * A database URL fit for output (messages, logs, JSON summaries): any password becomes `***`. Never throws;
 * a URL whose credentials cannot be told apart is reduced to its scheme.
 */
export function redactDatabaseUrl(databaseUrl: string): string {
  const url = typeof databaseUrl === 'string' ? databaseUrl.trim() : '';
  if (url.toLowerCase().startsWith('sqlite:')) return url;
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(url)?.[1];
  try {
    const parsed = new URL(url);
    if (parsed.host) {
      if (parsed.password) parsed.password = '***';
      return parsed.toString();
    }
  } catch {
    // shown below without its credentials
  }
  if (!url.includes('@')) return url;
  return scheme === undefined ? '(unparseable URL)' : `${scheme}://(unparseable URL)`;
}
