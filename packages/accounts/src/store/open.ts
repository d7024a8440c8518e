import { resolve } from 'node:path';
import type { AccountStore } from '../types';
import { PostgresAccountStore } from './postgres';
import { SqliteAccountStore } from './sqlite';

export type DatabaseTarget =
  | { kind: 'sqlite'; filename: string }
  | { kind: 'postgres'; connectionString: string; schema: string | undefined };

const USAGE = 'use sqlite:<path>, sqlite::memory: or postgres://user@host:port/db[?schema=name]';
const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

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
        `Database URL sqlite://… is not supported; write sqlite:<path> (e.g. sqlite:./data/lending.db)`,
      );
    }
    return { kind: 'sqlite', filename: resolve(path) };
  }
  if (/^postgres(?:ql)?:\/\//i.test(url)) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new Error(
        `Database URL is not a valid postgres:// URL (check for unescaped characters): ${USAGE}`,
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

/** Opens the store the URL names and runs its migrations (safe when several processes open it at once). */
export async function openAccountStore(databaseUrl: string): Promise<AccountStore> {
  const target = parseDatabaseUrl(databaseUrl);
  if (target.kind === 'sqlite') return SqliteAccountStore.open(target.filename);
  return PostgresAccountStore.open({ connectionString: target.connectionString, schema: target.schema });
}
