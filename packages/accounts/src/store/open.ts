import type { AccountStore } from '../types';
import { parseDatabaseUrl } from './database-url';
import { PostgresAccountStore } from './postgres';
import { SqliteAccountStore } from './sqlite';

/** Opens the store the URL names and runs its migrations (safe when several processes open it at once). */
export async function openAccountStore(databaseUrl: string): Promise<AccountStore> {
  const target = parseDatabaseUrl(databaseUrl);
  if (target.kind === 'sqlite') return SqliteAccountStore.open(target.filename);
  return PostgresAccountStore.open({ connectionString: target.connectionString, schema: target.schema });
}
