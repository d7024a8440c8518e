import type { AccountStore } from '../types';
import { parseDatabaseUrl } from './database-url';
import { PostgresAccountStore } from './postgres';
import type { PostgresStoreOptions } from './postgres';
import { SqliteAccountStore } from './sqlite';

/** PostgreSQL's pool size and timeouts (ignored for SQLite). */
export type PostgresTuning = Omit<PostgresStoreOptions, 'connectionString' | 'schema'>;

/** Opens the store the URL names and runs its migrations (safe when several processes open it at once). */
export async function openAccountStore(
  databaseUrl: string,
  postgres: PostgresTuning = {},
): Promise<AccountStore> {
  const target = parseDatabaseUrl(databaseUrl);
  if (target.kind === 'sqlite') return SqliteAccountStore.open(target.filename);
  return PostgresAccountStore.open({
    ...postgres,
    connectionString: target.connectionString,
    schema: target.schema,
  });
}
